// Stand-in for Gloo's header (see README.md in gloo_shim/gloo).
#pragma once
