// Stand-in for Gloo's header (see README.md in gloo_shim/gloo).
#pragma once

namespace gloo::transport {
class Device;        // held by std::shared_ptr only
class UnboundBuffer; // held by std::unique_ptr only
} // namespace gloo::transport
