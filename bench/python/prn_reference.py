"""The PRN network of core/ in plain PyTorch, built from a prnanomaly bundle.

A reference for prn-bench and the parity test: the same modules, parameter names and
arithmetic as core/src/{encoder,prototypes,fusion,attention,decoder,model}.cpp
(docs/architecture.md, section 2), loading every tensor of the bundle file with
load_state_dict(strict=True). forward() returns the anomaly map sigmoid(logits),
(B, 1, S, S), of float32 RGB tiles in [0, 1], (B, 3, S, S).

    python prn_reference.py BUNDLE   # prints the configuration and a smoke forward
"""
import sys

import torch
import torch.jit._pickle
import torch.nn as nn
import torch.nn.functional as F

ENCODER_CHANNELS = (64, 128, 256)
FORMAT = "prnanomaly-model"
FORMAT_MAJOR = 1


def read_bundle(path):
    """The bundle's top-level dict. LibTorch's pickler tags typed dicts with
    torch.jit._pickle.restore_type_tag, the one global the weights-only unpickler
    needs allowed; nothing else in the file runs code."""
    try:
        with torch.serialization.safe_globals([torch.jit._pickle.restore_type_tag]):
            root = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as e:
        raise ValueError(f"bundle '{path}': cannot read it as a prnanomaly model file: {e}") from e
    if not isinstance(root, dict) or root.get("format") != FORMAT:
        raise ValueError(f"bundle '{path}': expected a dict with format '{FORMAT}', got "
                         f"{root.get('format') if isinstance(root, dict) else type(root).__name__}")
    if root.get("format_major") != FORMAT_MAJOR:
        raise ValueError(f"bundle '{path}': format version {root.get('format_major')}, this reader "
                         f"reads {FORMAT_MAJOR}.x")
    return root


def parse_config(m):
    """ModelConfig::from_map for the fields the forward pass uses (paper defaults)."""
    ints = lambda key, default: [int(v) for v in m.get(key, default).split(",")]
    c = {
        "name": m.get("name", "paper"),
        "input_size": ints("input_size", "256")[0],
        "channels": ints("channels", "128,256,512"),
        "attention_blocks": ints("attention_blocks", "3")[0],
        "patch_divisors": ints("patch_divisors", "1,2,4,8"),
        "head_channels": ints("head_channels", "64")[0],
        "top_k": ints("top_k", "100")[0],
    }
    if len(c["channels"]) != 3 or c["input_size"] % 16:
        raise ValueError(f"config {m}: expected 3 channels and input_size a multiple of 16")
    return c


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class Encoder(nn.Module):
    """ResNet-18 stem and layers 1-3 with the ImageNet normalisation inside."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = nn.Sequential(BasicBlock(64, 64, 1), BasicBlock(64, 64, 1))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128, 1))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256, 1))
        self.register_buffer("input_mean", torch.zeros(1, 3, 1, 1))
        self.register_buffer("input_std", torch.ones(1, 3, 1, 1))

    def forward(self, x):
        x = (x - self.input_mean) / self.input_std
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        l1 = self.layer1(x)
        l2 = self.layer2(l1)
        return [l1, l2, self.layer3(l2)]


class Fusion(nn.Module):
    """HRNet-style exchange: finer->coarser grouped strided conv, coarser->finer 1x1
    conv then bilinear upsampling; no norm, no activation."""

    def __init__(self, ch):
        super().__init__()
        for i in range(3):
            for j in range(3):
                if i < j:
                    f = 1 << (j - i)
                    conv = nn.Conv2d(ch[i], ch[j], f + 1, f, f // 2, groups=ch[i])
                elif i > j:
                    conv = nn.Conv2d(ch[i], ch[j], 1)
                else:
                    continue
                self.add_module(f"from{i}_to{j}", conv)

    def forward(self, x):
        out = []
        for j in range(3):
            acc = x[j]
            for i in range(3):
                if i == j:
                    continue
                r = getattr(self, f"from{i}_to{j}")(x[i])
                if i > j:
                    r = F.interpolate(r, size=x[j].shape[2:], mode="bilinear", align_corners=False)
                acc = acc + r
            out.append(acc)
        return out


class AttentionBlock(nn.Module):
    """Multi-size self-attention: per divisor d, d*d patch tokens with element-wise
    affine q/k/v and single-head SDPA (d = 1: v only), then the residual reduction."""

    def __init__(self, channels, size, divisors, explicit_softmax=False):
        super().__init__()
        self.channels, self.size, self.divisors = channels, size, list(divisors)
        self.explicit_softmax = explicit_softmax
        for i, d in enumerate(self.divisors):
            p = size // d
            for name in (["v"] if d == 1 else ["q", "k", "v"]):
                self.register_parameter(f"branch{i}_{name}_weight", nn.Parameter(torch.ones(1, channels, p, p)))
                self.register_parameter(f"branch{i}_{name}_bias", nn.Parameter(torch.zeros(1, channels, p, p)))
        cat = channels * len(self.divisors)
        self.reduce1 = nn.Conv2d(cat, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.reduce2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = nn.Conv2d(cat, channels, 1, bias=False)

    def affine(self, i, name, t, D):
        w = getattr(self, f"branch{i}_{name}_weight")
        b = getattr(self, f"branch{i}_{name}_bias")
        return torch.addcmul(b.reshape(1, 1, 1, D), t, w.reshape(1, 1, 1, D))

    def branch(self, x, i):
        B, C, d = x.shape[0], self.channels, self.divisors[i]
        p = self.size // d
        if d == 1:
            return torch.addcmul(getattr(self, f"branch{i}_v_bias"), x, getattr(self, f"branch{i}_v_weight"))
        N, D = d * d, C * p * p
        tokens = x.reshape(B, C, d, p, d, p).permute(0, 2, 4, 1, 3, 5).reshape(B, 1, N, D)
        q, k, v = (self.affine(i, n, tokens, D) for n in ("q", "k", "v"))
        if self.explicit_softmax:  # the same arithmetic as SDPA's math path, for exporters
            att = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * (1.0 / D ** 0.5), dim=-1)
            out = torch.matmul(att, v)
        else:
            out = F.scaled_dot_product_attention(q, k, v)
        return out.reshape(B, d, d, C, p, p).permute(0, 3, 1, 4, 2, 5).reshape(B, C, self.size, self.size)

    def forward(self, x):
        cat = torch.cat([self.branch(x, i) for i in range(len(self.divisors))], 1)
        y = F.relu(self.bn1(self.reduce1(cat)))
        y = self.bn2(self.reduce2(y))
        return F.relu(y + self.shortcut(cat))


def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def double_conv(cin, cout):
    return nn.Sequential(*conv_bn_relu(cin, cout), *conv_bn_relu(cout, cout))


class Decoder(nn.Module):
    def __init__(self, ch, head_channels, output_size):
        super().__init__()
        d = [c // 2 for c in ch]
        self.output_size = output_size
        self.bottom = conv_bn_relu(ch[2], d[2])
        for s in (1, 0):
            self.add_module(f"up{s}", conv_bn_relu(d[s + 1], d[s]))
            self.add_module(f"merge{s}", double_conv(d[s] + ch[s], d[s]))
        self.head = conv_bn_relu(d[0], head_channels)
        self.out = nn.Conv2d(head_channels, 1, 1)

    def forward(self, x):
        y = self.bottom(x[2])
        for s in (1, 0):
            y = F.interpolate(y, size=x[s].shape[2:], mode="bilinear", align_corners=False)
            y = getattr(self, f"up{s}")(y)
            y = getattr(self, f"merge{s}")(torch.cat([y, x[s]], 1))
        y = F.interpolate(y, size=(self.output_size, self.output_size), mode="bilinear", align_corners=False)
        return self.out(self.head(y))


def nearest_residual(f, protos):
    """R = (F - P[k*])^2 with k* = argmin_k ||F - P_k||_2 over the whole map (first
    index on ties), as ops::nearest_prototype_residual."""
    B, K = f.shape[0], protos.shape[0]
    dist = (f.reshape(B, 1, -1) - protos.reshape(1, K, -1)).square().sum(-1)
    nearest = torch.argmin(dist, dim=1)
    return (f - protos[nearest]).square()


class PrnReference(nn.Module):
    def __init__(self, config, num_prototypes, explicit_softmax=False):
        super().__init__()
        c = config
        self.config = c
        S = c["input_size"]
        self.encoder = Encoder()
        for s in range(3):
            side = S >> (s + 2)
            self.register_buffer(f"prototypes{s}", torch.zeros(num_prototypes, ENCODER_CHANNELS[s], side, side))
        self.fusion_in = Fusion(ENCODER_CHANNELS)
        for s in range(3):
            if c["channels"][s] != 2 * ENCODER_CHANNELS[s]:
                self.add_module(f"projection{s}", nn.Conv2d(2 * ENCODER_CHANNELS[s], c["channels"][s], 1))
            self.add_module(f"attention{s}", nn.Sequential(*[
                AttentionBlock(c["channels"][s], S >> (s + 2), c["patch_divisors"], explicit_softmax)
                for _ in range(c["attention_blocks"])]))
        self.fusion_out = Fusion(c["channels"])
        self.decoder = Decoder(c["channels"], c["head_channels"], S)

    def forward(self, images):
        return torch.sigmoid(self.logits(images))

    def logits(self, images):
        feats = self.encoder(images)
        resid = [nearest_residual(feats[s], getattr(self, f"prototypes{s}")) for s in range(3)]
        ff, fr = self.fusion_in(feats), self.fusion_in(resid)
        attended = []
        for s in range(3):
            x = torch.cat([ff[s], fr[s]], 1)
            if hasattr(self, f"projection{s}"):
                x = getattr(self, f"projection{s}")(x)
            attended.append(getattr(self, f"attention{s}")(x))
        return self.decoder(self.fusion_out(attended))


def load_reference(path, explicit_softmax=False):
    """(model in eval mode, config dict) of a bundle file; every tensor of the file
    must be a parameter or buffer of the reference and the reverse."""
    root = read_bundle(path)
    config = parse_config(dict(root["config"]))
    tensors = dict(root["tensors"])
    if "prototypes0" not in tensors:
        raise ValueError(f"bundle '{path}': no prototypes0 tensor (prototypes not fitted)")
    model = PrnReference(config, tensors["prototypes0"].shape[0], explicit_softmax)
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        raise ValueError(f"bundle '{path}': the reference of its '{config['name']}' configuration does not match "
                         f"its tensors: missing {missing[:8]}, unexpected {unexpected[:8]}")
    return model.eval(), config


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: prn_reference.py BUNDLE")
    m, c = load_reference(sys.argv[1])
    S = c["input_size"]
    with torch.inference_mode():
        y = m(torch.rand(2, 3, S, S, generator=torch.Generator().manual_seed(0)))
    print(c, "->", tuple(y.shape), f"min {y.min():.4f} max {y.max():.4f}")
