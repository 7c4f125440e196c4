#include "prn/config.h"

#include "internal/text_number.h"
#include "prn/error.h"
#include "prn/join_integers.h"

#include <cmath>
#include <sstream>

namespace prn {

ModelConfig ModelConfig::paper() { return ModelConfig{}; }

ModelConfig ModelConfig::light() {
  ModelConfig c;
  c.name = "light";
  c.input_size = 128;
  c.channels = {32, 64, 128};
  c.attention_blocks = 1;
  c.patch_divisors = {1, 2, 4};
  c.head_channels = 16;
  return c;
}

ModelConfig ModelConfig::by_name(const std::string &name) {
  if (name == "paper")
    return paper();
  if (name == "light")
    return light();
  throw Error(detail::concat("unknown model configuration '", name,
                             "': expected 'paper' or 'light'"));
}

void ModelConfig::validate() const {
  PRN_CHECK(input_size >= 16 && input_size % 16 == 0,
            "model config '", name, "': input_size must be a positive multiple of 16, got ", input_size);
  for (int s = 0; s < 3; ++s) {
    PRN_CHECK(channels[s] > 0 && channels[s] % 2 == 0,
              "model config '", name, "': channels[", s, "] must be a positive even number, got ", channels[s]);
  }
  PRN_CHECK(channels[1] == 2 * channels[0] && channels[2] == 2 * channels[1],
            "model config '", name, "': channels must double per scale (e.g. 128,256,512), got ",
            channels[0], ",", channels[1], ",", channels[2]);
  PRN_CHECK(attention_blocks >= 0, "model config '", name,
            "': attention_blocks must be >= 0, got ", attention_blocks);
  PRN_CHECK(!patch_divisors.empty(), "model config '", name, "': patch_divisors is empty");
  for (int64_t d : patch_divisors) {
    PRN_CHECK(d >= 1 && feature_size(2) % d == 0,
              "model config '", name, "': patch divisor ", d, " does not divide the smallest feature map side ",
              feature_size(2), " (input_size ", input_size, ")");
  }
  PRN_CHECK(head_channels > 0, "model config '", name, "': head_channels must be > 0, got ", head_channels);
  PRN_CHECK(focal_alpha >= 0 && focal_alpha <= 1, "model config '", name,
            "': focal_alpha must be in [0, 1], got ", focal_alpha);
  PRN_CHECK(focal_gamma >= 0, "model config '", name, "': focal_gamma must be >= 0, got ", focal_gamma);
  PRN_CHECK(loss_lambda >= 0, "model config '", name, "': loss_lambda must be >= 0, got ", loss_lambda);
  PRN_CHECK(top_k >= 1, "model config '", name, "': top_k must be >= 1, got ", top_k);
  PRN_CHECK(std::isfinite(map_sigma) && map_sigma >= 0 && map_sigma <= input_size, "model config '", name,
            "': map_sigma must be in [0, input_size] pixels, got ", map_sigma);
  PRN_CHECK(prototype_ratio > 0 && prototype_ratio <= 1, "model config '", name,
            "': prototype_ratio must be in (0, 1], got ", prototype_ratio);
  PRN_CHECK(num_prototypes >= 0, "model config '", name, "': num_prototypes must be >= 0, got ", num_prototypes);
  PRN_CHECK(kmeans_max_iter >= 1, "model config '", name, "': kmeans_max_iter must be >= 1, got ", kmeans_max_iter);
}

namespace {

std::vector<int64_t> split_ints(const std::string &key, const std::string &text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stoll(item, &used));
      PRN_CHECK(used == item.size(), "trailing characters");
    } catch (const std::exception &) {
      throw Error(detail::concat("model config field '", key,
                                 "': expected comma-separated integers, got '", text, "'"));
    }
  }
  return out;
}

double to_double(const std::string &key, const std::string &text) {
  if (auto v = detail::parse_number(text))
    return *v;
  throw Error(detail::concat("model config field '", key, "': expected a number, got '", text, "'"));
}

int64_t to_int(const std::string &key, const std::string &text) {
  auto v = split_ints(key, text);
  PRN_CHECK(v.size() == 1, "model config field '", key, "': expected one integer, got '", text, "'");
  return v[0];
}

} // namespace

std::map<std::string, std::string> ModelConfig::to_map() const {
  std::map<std::string, std::string> m{
      {"name", name},
      {"input_size", std::to_string(input_size)},
      {"channels", join_integers({channels[0], channels[1], channels[2]}, ",")},
      {"attention_blocks", std::to_string(attention_blocks)},
      {"patch_divisors", join_integers(patch_divisors, ",")},
      {"head_channels", std::to_string(head_channels)},
      {"focal_alpha", detail::format_number(focal_alpha)},
      {"focal_gamma", detail::format_number(focal_gamma)},
      {"loss_lambda", detail::format_number(loss_lambda)},
      {"top_k", std::to_string(top_k)},
      {"prototype_ratio", detail::format_number(prototype_ratio)},
      {"num_prototypes", std::to_string(num_prototypes)},
      {"kmeans_max_iter", std::to_string(kmeans_max_iter)},
  };
  // Written only when set: files without smoothing stay as they were (same bytes, same model id).
  if (map_sigma != 0)
    m["map_sigma"] = detail::format_number(map_sigma);
  return m;
}

ModelConfig ModelConfig::from_map(const std::map<std::string, std::string> &m) {
  ModelConfig c;
  auto get = [&](const char *key) -> const std::string * {
    auto it = m.find(key);
    return it == m.end() ? nullptr : &it->second;
  };
  if (auto v = get("name"))
    c.name = *v;
  if (auto v = get("input_size"))
    c.input_size = to_int("input_size", *v);
  if (auto v = get("channels")) {
    auto ch = split_ints("channels", *v);
    PRN_CHECK(ch.size() == 3, "model config field 'channels': expected 3 integers, got '", *v, "'");
    c.channels = {ch[0], ch[1], ch[2]};
  }
  if (auto v = get("attention_blocks"))
    c.attention_blocks = to_int("attention_blocks", *v);
  if (auto v = get("patch_divisors"))
    c.patch_divisors = split_ints("patch_divisors", *v);
  if (auto v = get("head_channels"))
    c.head_channels = to_int("head_channels", *v);
  if (auto v = get("focal_alpha"))
    c.focal_alpha = to_double("focal_alpha", *v);
  if (auto v = get("focal_gamma"))
    c.focal_gamma = to_double("focal_gamma", *v);
  if (auto v = get("loss_lambda"))
    c.loss_lambda = to_double("loss_lambda", *v);
  if (auto v = get("top_k"))
    c.top_k = to_int("top_k", *v);
  if (auto v = get("prototype_ratio"))
    c.prototype_ratio = to_double("prototype_ratio", *v);
  if (auto v = get("num_prototypes"))
    c.num_prototypes = to_int("num_prototypes", *v);
  if (auto v = get("map_sigma"))
    c.map_sigma = to_double("map_sigma", *v);
  if (auto v = get("kmeans_max_iter"))
    c.kmeans_max_iter = to_int("kmeans_max_iter", *v);
  c.validate();
  return c;
}

} // namespace prn
