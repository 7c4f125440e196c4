// prnanomaly: the heatmap colour maps as 256-entry RGB tables.
//
// Plain C++ (no LibTorch, no GLib): the colormap_blend op and the GStreamer
// plugin prnline (prnoverlay, which does not link LibTorch) include this one
// header, so both draw with the same tables.
//
// jet:     MATLAB's piecewise-linear jet (blue, cyan, yellow, red).
// inferno: matplotlib's perceptually uniform inferno (black, purple, orange,
//          pale yellow), as a degree-6 least-squares polynomial fit (within
//          about 0.02 of matplotlib's table on the 0..1 scale).
// turbo:   Google's turbo (an improved rainbow), through its published
//          polynomial approximation (Mikhailov 2019).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace prn::ops {

enum class Colormap { Jet = 0, Inferno = 1, Turbo = 2 };

// 256 RGB triplets (768 bytes): entry 0 is the coldest colour, entry 255 the hottest.
using ColormapLut = std::array<uint8_t, 256 * 3>;

namespace colormap_detail {

struct Rgb {
  double r, g, b;
};

inline Rgb jet(double t) {
  auto ramp = [t](double centre) { return 1.5 - std::fabs(4.0 * t - centre); };
  return {ramp(3.0), ramp(2.0), ramp(1.0)};
}

inline Rgb inferno(double t) {
  static constexpr double c[7][3] = {
      {0.0002189403691192265, 0.001651004631001012, -0.01948089843709184},
      {0.1065134194856116, 0.5639564367884091, 3.932712388889277},
      {11.60249308247187, -3.972853965665698, -15.9423941062914},
      {-41.70399613139459, 17.43639888205313, 44.35414519872813},
      {77.162935699427, -33.40235894210092, -81.80730925738993},
      {-71.31942824499214, 32.62606426397723, 73.20951985803202},
      {25.13112622477341, -12.24266895238567, -23.07032500287172},
  };
  double v[3];
  for (int k = 0; k < 3; k++) {
    double acc = c[6][k];
    for (int i = 5; i >= 0; i--)
      acc = acc * t + c[i][k];
    v[k] = acc;
  }
  return {v[0], v[1], v[2]};
}

inline Rgb turbo(double t) {
  static constexpr double r[6] = {0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943};
  static constexpr double g[6] = {0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604};
  static constexpr double b[6] = {0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973};
  auto poly = [t](const double *k) {
    double acc = 0.0;
    for (int i = 5; i >= 0; i--)
      acc = acc * t + k[i];
    return acc;
  };
  return {poly(r), poly(g), poly(b)};
}

inline uint8_t to_byte(double v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0)); }

template <Rgb (*F)(double)>
ColormapLut make_lut() {
  ColormapLut lut{};
  for (int i = 0; i < 256; i++) {
    const Rgb c = F(i / 255.0);
    lut[i * 3 + 0] = to_byte(c.r);
    lut[i * 3 + 1] = to_byte(c.g);
    lut[i * 3 + 2] = to_byte(c.b);
  }
  return lut;
}

} // namespace colormap_detail

// The table of `colormap`, computed once per process (thread-safe initialisation
// of function-local statics; an inline function has one copy of them per
// program) and valid for its lifetime. Values outside the enum give jet.
inline const ColormapLut &colormap_lut(Colormap colormap) {
  static const ColormapLut jet_lut = colormap_detail::make_lut<colormap_detail::jet>();
  static const ColormapLut inferno_lut = colormap_detail::make_lut<colormap_detail::inferno>();
  static const ColormapLut turbo_lut = colormap_detail::make_lut<colormap_detail::turbo>();
  switch (colormap) {
  case Colormap::Inferno:
    return inferno_lut;
  case Colormap::Turbo:
    return turbo_lut;
  case Colormap::Jet:
  default:
    return jet_lut;
  }
}

} // namespace prn::ops
