#include "prn/encoder.h"

#include "internal/batchnorm_refit.h"

#include "prn/conv_bn_fold.h"
#include "prn/error.h"
#include "prn/state_dict.h"

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

namespace prn {
namespace {

namespace nn = torch::nn;

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

// torchvision's BasicBlock, with its parameter names.
class BasicBlockImpl : public nn::Module {
public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
    conv1 = register_module("conv1", conv(in, out, 3, stride, 1));
    bn1 = register_module("bn1", nn::BatchNorm2d(out));
    conv2 = register_module("conv2", conv(out, out, 3, 1, 1));
    bn2 = register_module("bn2", nn::BatchNorm2d(out));
    if (stride != 1 || in != out) {
      downsample = register_module("downsample", nn::Sequential(conv(in, out, 1, stride, 0), nn::BatchNorm2d(out)));
    }
  }
  torch::Tensor forward(const torch::Tensor &x) {
    auto y = torch::relu(bn1(conv1(x)));
    y = bn2(conv2(y));
    auto shortcut = downsample.is_empty() ? x : downsample->forward(x);
    return torch::relu(y + shortcut);
  }

  // forward with the BatchNorms folded into the convs (see ConvBnFold) and the
  // ReLUs and the residual add in place; forward itself where the fold does not apply.
  torch::Tensor forward_folded(const torch::Tensor &x) {
    auto y = fold1_.apply(*conv1, *bn1, x);
    if (y)
      y = fold2_.apply(*conv2, *bn2, y->relu_());
    if (!y)
      return forward(x);
    torch::Tensor shortcut = x;
    if (!downsample.is_empty()) {
      auto s = fold_down_.apply(*downsample[0]->as<nn::Conv2d>(), *downsample[1]->as<nn::BatchNorm2d>(), x);
      shortcut = s ? *s : downsample->forward(x);
    }
    return y->add_(shortcut).relu_();
  }

  void clear_folds() {
    fold1_.clear();
    fold2_.clear();
    fold_down_.clear();
  }

private:
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  nn::Sequential downsample{nullptr};
  ConvBnFold fold1_, fold2_, fold_down_;
};
TORCH_MODULE(BasicBlock);

nn::Sequential make_layer(int64_t in, int64_t out, int64_t stride) {
  return nn::Sequential(BasicBlock(in, out, stride), BasicBlock(out, out, 1));
}

std::string shape_str(const torch::Tensor &t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

} // namespace

EncoderImpl::EncoderImpl() {
  conv1 = register_module("conv1", conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", nn::BatchNorm2d(64));
  layer1 = register_module("layer1", make_layer(64, 64, 1));
  layer2 = register_module("layer2", make_layer(64, 128, 2));
  layer3 = register_module("layer3", make_layer(128, 256, 2));
  mean_ = register_buffer("input_mean", torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1}));
  std_ = register_buffer("input_std", torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1}));
  for (auto &p : parameters())
    p.set_requires_grad(false);
  reset_parameters(0);
  train(false);
}

void EncoderImpl::set_trainable(bool on) {
  trainable_ = on;
  for (auto &p : parameters())
    p.set_requires_grad(on);
  clear_folds();
  torch::nn::Module::train(false);
}

void EncoderImpl::train(bool on) {
  torch::nn::Module::train(trainable_ && on);
  if (on) // the model trains: free the fast path's folded weights until the next inference
    clear_folds();
}

void EncoderImpl::clear_folds() {
  stem_fold_.clear();
  for (auto *layer : {&layer1, &layer2, &layer3})
    for (const auto &block : (*layer)->children())
      block->as<BasicBlock>()->clear_folds();
}

void EncoderImpl::reset_parameters(uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto &item : named_parameters()) {
    const std::string &name = item.key();
    torch::Tensor p = item.value();
    if (p.dim() == 4) {
      // kaiming_normal_(mode="fan_out", nonlinearity="relu")
      const double fan_out = static_cast<double>(p.size(0) * p.size(2) * p.size(3));
      auto w = at::normal(0.0, std::sqrt(2.0 / fan_out), p.sizes(), gen, torch::kFloat32);
      p.copy_(w);
    } else if (name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0) {
      p.fill_(1.0);
    } else {
      p.zero_();
    }
  }
  for (auto &item : named_buffers()) {
    const std::string &name = item.key();
    if (name.find("running_mean") != std::string::npos || name.find("num_batches_tracked") != std::string::npos)
      item.value().zero_();
    else if (name.find("running_var") != std::string::npos)
      item.value().fill_(1.0);
  }
}

std::vector<std::string> EncoderImpl::torchvision_keys() const {
  std::vector<std::string> keys;
  for (const auto &item : named_parameters())
    keys.push_back(item.key());
  for (const auto &item : named_buffers())
    if (item.key() != "input_mean" && item.key() != "input_std")
      keys.push_back(item.key());
  return keys;
}

void EncoderImpl::load_torchvision(const std::string &path) {
  TensorMap file = read_state_dict(path);
  std::map<std::string, torch::Tensor> targets;
  const auto params = named_parameters(), buffers = named_buffers();
  for (const auto &key : torchvision_keys()) {
    const torch::Tensor *t = params.find(key);
    targets[key] = t != nullptr ? *t : buffers[key];
  }

  std::vector<std::string> missing, mismatched, unexpected;
  for (const auto &[key, target] : targets) {
    auto it = file.find(key);
    if (it == file.end()) {
      missing.push_back(key + " " + shape_str(target));
    } else if (it->second.sizes() != target.sizes()) {
      mismatched.push_back(key + ": expected " + shape_str(target) + ", got " + shape_str(it->second));
    }
  }
  for (const auto &[key, value] : file) {
    if (targets.count(key) || key.rfind("layer4.", 0) == 0 || key.rfind("fc.", 0) == 0)
      continue;
    unexpected.push_back(key + " " + shape_str(value));
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::ostringstream os;
    os << "weights file '" << path << "' is not a torchvision resnet18 state dict:";
    auto list = [&](const char *what, const std::vector<std::string> &v) {
      if (v.empty())
        return;
      os << " " << v.size() << " " << what << " (";
      for (size_t i = 0; i < v.size() && i < 8; ++i)
        os << (i ? "; " : "") << v[i];
      if (v.size() > 8)
        os << "; ...";
      os << ")";
    };
    list("missing keys", missing);
    list("shape mismatches", mismatched);
    list("unexpected keys", unexpected);
    throw Error(os.str());
  }
  torch::NoGradGuard no_grad;
  for (auto &[key, target] : targets) {
    const torch::Tensor &src = file.at(key);
    PRN_CHECK(src.is_floating_point() || !target.is_floating_point(), "weights file '", path, "': ", key,
              " expected a floating-point tensor, got ", src.scalar_type());
    auto value = src.to(target.device(), target.scalar_type());
    PRN_CHECK(!target.is_floating_point() || torch::isfinite(value).all().item<bool>(), "weights file '", path,
              "': ", key, " holds non-finite values");
    target.copy_(value);
  }
}

void EncoderImpl::fit_batchnorm(const torch::Tensor &images, int64_t batch) {
  PRN_CHECK(images.defined() && images.dim() == 4 && images.size(1) == 3 && images.size(0) >= 1,
            "Encoder::fit_batchnorm: expected images of shape (N, 3, H, W) with N >= 1, got ",
            images.defined() ? shape_str(images) : std::string("an undefined tensor"));
  PRN_CHECK(batch >= 1, "Encoder::fit_batchnorm: expected batch >= 1, got ", batch);
  std::vector<torch::nn::BatchNorm2dImpl *> norms;
  for (auto &m : modules(/*include_self=*/false))
    if (auto *bn = dynamic_cast<torch::nn::BatchNorm2dImpl *>(m.get()))
      norms.push_back(bn);
  for (auto *bn : norms)
    bn->torch::nn::Module::train(true); // batch statistics in forward, running ones updated
  detail::refit_batchnorm(norms, [&] {
    for (int64_t i = 0; i < images.size(0); i += batch)
      forward(images.narrow(0, i, std::min(batch, images.size(0) - i)));
  });
  for (auto *bn : norms)
    bn->torch::nn::Module::train(false);
}

std::array<torch::Tensor, 3> EncoderImpl::forward(const torch::Tensor &images, bool fold_batchnorm) {
  // Frozen: never any autograd. Trainable (the adaptation of the fallback):
  // autograd as the caller has it, and no folds (the weights move).
  std::optional<torch::NoGradGuard> no_grad;
  if (!trainable_)
    no_grad.emplace();
  else
    fold_batchnorm = false;
  auto x = (images - mean_) / std_;
  auto stem = fold_batchnorm ? stem_fold_.apply(*conv1, *bn1, x) : std::nullopt;
  if (!stem) {
    x = torch::relu(bn1(conv1(x)));
    x = torch::max_pool2d(x, 3, 2, 1);
    auto l1 = layer1->forward(x);
    auto l2 = layer2->forward(l1);
    auto l3 = layer3->forward(l2);
    return {l1, l2, l3};
  }
  // max_pool2d(relu(y)) == relu(max_pool2d(y)) exactly (both monotone): the ReLU
  // runs on the pooled map, a quarter of the stem's output.
  x = torch::max_pool2d(*stem, 3, 2, 1).relu_();
  std::array<torch::Tensor, 3> out;
  int s = 0;
  for (auto *layer : {&layer1, &layer2, &layer3}) {
    for (const auto &block : (*layer)->children())
      x = block->as<BasicBlock>()->forward_folded(x);
    out[s++] = x;
  }
  return out;
}

} // namespace prn
