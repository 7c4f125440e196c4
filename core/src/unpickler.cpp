// The pickle machine of torch_pickle.cpp (see internal/unpickler.h).
#include "internal/unpickler.h"

#include <cstring>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace prn::detail {

void pickle_fail(const std::string &what) { throw std::runtime_error(what); }

namespace {

PyRef make(PyObj::Kind k) {
  auto o = std::make_shared<PyObj>();
  o->kind = k;
  return o;
}
PyRef make_int(int64_t v) {
  auto o = make(PyObj::Kind::Int);
  o->i = v;
  return o;
}
PyRef make_str(PyObj::Kind k, std::string s) {
  auto o = make(k);
  o->s = std::move(s);
  return o;
}

at::ScalarType storage_dtype(const std::string &name) {
  static const std::map<std::string, at::ScalarType> types{
      {"torch.FloatStorage", at::kFloat},        {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},          {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},          {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},        {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},          {"torch.BoolStorage", at::kBool},
      {"torch.ComplexFloatStorage", at::kComplexFloat}, {"torch.ComplexDoubleStorage", at::kComplexDouble},
  };
  auto it = types.find(name);
  if (it == types.end())
    pickle_fail("unsupported storage type '" + name + "'");
  return it->second;
}


class Unpickler {
public:
  Unpickler(const std::string &bytes, size_t pos, StorageTable &storages)
      : data_(bytes), pos_(pos), storages_(storages) {}

  PyRef run() {
    for (;;) {
      const uint8_t op = u8();
      switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        read(8);
        break;
      case '.': // STOP
        if (stack_.size() != 1)
          pickle_fail("malformed pickle: stack holds " + std::to_string(stack_.size()) + " values at STOP");
        return stack_.back();
      case '(':
        marks_.push_back(stack_.size());
        break;
      case 'N':
        push(make(PyObj::Kind::None));
        break;
      case 0x88:
      case 0x89: {
        auto o = make(PyObj::Kind::Bool);
        o->b = op == 0x88;
        push(o);
        break;
      }
      case 'J':
        push(make_int(static_cast<int32_t>(le(4))));
        break;
      case 'K':
        push(make_int(static_cast<int64_t>(le(1))));
        break;
      case 'M':
        push(make_int(static_cast<int64_t>(le(2))));
        break;
      case 0x8a: { // LONG1
        const size_t n = u8();
        push(make_int(long_bytes(n)));
        break;
      }
      case 0x8b: { // LONG4
        const size_t n = le(4);
        push(make_int(long_bytes(n)));
        break;
      }
      case 'G': { // BINFLOAT, big endian
        uint64_t v = 0;
        for (int k = 0; k < 8; ++k)
          v = (v << 8) | u8();
        auto o = make(PyObj::Kind::Float);
        std::memcpy(&o->f, &v, sizeof v);
        push(o);
        break;
      }
      case 'X': // BINUNICODE
        push(make_str(PyObj::Kind::Str, read(le(4))));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(make_str(PyObj::Kind::Str, read(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(make_str(PyObj::Kind::Str, read(le(8))));
        break;
      case 'T': // BINSTRING
        push(make_str(PyObj::Kind::Str, read(le(4))));
        break;
      case 'U': // SHORT_BINSTRING
        push(make_str(PyObj::Kind::Str, read(u8())));
        break;
      case 'B': // BINBYTES
        push(make_str(PyObj::Kind::Bytes, read(le(4))));
        break;
      case 'C': // SHORT_BINBYTES
        push(make_str(PyObj::Kind::Bytes, read(u8())));
        break;
      case ')':
        push(make(PyObj::Kind::Tuple));
        break;
      case ']':
        push(make(PyObj::Kind::List));
        break;
      case '}':
        push(make(PyObj::Kind::Dict));
        break;
      case 't':
      case 'l': {
        auto o = make(op == 't' ? PyObj::Kind::Tuple : PyObj::Kind::List);
        o->items = pop_to_mark();
        push(o);
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {
        const size_t n = op - 0x84;
        auto o = make(PyObj::Kind::Tuple);
        o->items = pop_n(n);
        push(o);
        break;
      }
      case 'q': // BINPUT
        memo(u8());
        break;
      case 'r': // LONG_BINPUT
        memo(le(4));
        break;
      case 0x94: // MEMOIZE
        memo(memo_.size());
        break;
      case 'h':
        push(get_memo(u8()));
        break;
      case 'j':
        push(get_memo(le(4)));
        break;
      case 'c': { // GLOBAL
        std::string module = line(), name = line();
        push(make_str(PyObj::Kind::Global, module + "." + name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        auto parts = pop_n(2);
        push(make_str(PyObj::Kind::Global, parts[0]->s + "." + parts[1]->s));
        break;
      }
      case 'R': { // REDUCE
        auto args = pop();
        auto callable = pop();
        push(call(callable, args));
        break;
      }
      case 0x81: { // NEWOBJ
        auto args = pop();
        auto cls = pop();
        push(call(cls, args));
        break;
      }
      case 'b': { // BUILD: state of an object; dicts (OrderedDict._metadata) ignore it
        pop();
        if (stack_.empty())
          pickle_fail("malformed pickle: BUILD on an empty stack");
        break;
      }
      case 'Q': { // BINPERSID
        auto pid = pop();
        push(persistent_load(pid));
        break;
      }
      case 's': { // SETITEM
        auto v = pop();
        auto k = pop();
        target_dict()->dict.emplace_back(k, v);
        break;
      }
      case 'u': { // SETITEMS
        auto kv = pop_to_mark();
        if (kv.size() % 2)
          pickle_fail("malformed pickle: odd SETITEMS");
        auto d = target_dict();
        for (size_t k = 0; k < kv.size(); k += 2)
          d->dict.emplace_back(kv[k], kv[k + 1]);
        break;
      }
      case 'a': { // APPEND
        auto v = pop();
        target_list()->items.push_back(v);
        break;
      }
      case 'e': { // APPENDS
        auto vs = pop_to_mark();
        auto l = target_list();
        l->items.insert(l->items.end(), vs.begin(), vs.end());
        break;
      }
      case '0': // POP
        pop();
        break;
      default: {
        std::ostringstream os;
        os << "unsupported pickle opcode 0x" << std::hex << static_cast<int>(op) << std::dec << " at byte "
           << (pos_ - 1);
        pickle_fail(os.str());
      }
      }
    }
  }

  size_t position() const { return pos_; }

private:
  uint8_t u8() {
    if (pos_ >= data_.size())
      pickle_fail("the pickle ends early (truncated file)");
    return static_cast<uint8_t>(data_[pos_++]);
  }
  uint64_t le(size_t n) {
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k)
      v |= static_cast<uint64_t>(u8()) << (8 * k);
    return v;
  }
  int64_t long_bytes(size_t n) {
    if (n > 8) { // only the legacy magic number is this long; keep its low bits
      uint64_t v = le(8);
      read(n - 8);
      return static_cast<int64_t>(v);
    }
    if (n == 0)
      return 0;
    uint64_t v = le(n);
    if (n < 8 && (v >> (8 * n - 1)) & 1) // sign extend
      v |= ~uint64_t{0} << (8 * n);
    return static_cast<int64_t>(v);
  }
  std::string read(size_t n) {
    if (n > data_.size() - pos_)
      pickle_fail("the pickle ends early (truncated file)");
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    auto end = data_.find('\n', pos_);
    if (end == std::string::npos)
      pickle_fail("the pickle ends early (truncated file)");
    std::string s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  void push(PyRef o) { stack_.push_back(std::move(o)); }
  PyRef pop() {
    if (stack_.empty())
      pickle_fail("malformed pickle: pop from an empty stack");
    auto o = stack_.back();
    stack_.pop_back();
    return o;
  }
  std::vector<PyRef> pop_n(size_t n) {
    if (stack_.size() < n)
      pickle_fail("malformed pickle: stack underflow");
    std::vector<PyRef> out(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return out;
  }
  std::vector<PyRef> pop_to_mark() {
    if (marks_.empty())
      pickle_fail("malformed pickle: no MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    if (m > stack_.size())
      pickle_fail("malformed pickle: MARK past the stack");
    return pop_n(stack_.size() - m);
  }
  PyRef target_dict() {
    if (stack_.empty() || stack_.back()->kind != PyObj::Kind::Dict)
      pickle_fail("malformed pickle: SETITEM(S) on something that is not a dict");
    return stack_.back();
  }
  PyRef target_list() {
    if (stack_.empty() || stack_.back()->kind != PyObj::Kind::List)
      pickle_fail("malformed pickle: APPEND(S) on something that is not a list");
    return stack_.back();
  }
  void memo(size_t idx) {
    if (stack_.empty())
      pickle_fail("malformed pickle: memo of an empty stack");
    memo_[idx] = stack_.back();
  }
  PyRef get_memo(size_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end())
      pickle_fail("malformed pickle: unknown memo " + std::to_string(idx));
    return it->second;
  }

  static int64_t as_int(const PyRef &o, const char *what) {
    if (o->kind != PyObj::Kind::Int)
      pickle_fail(std::string("expected an integer for ") + what);
    return o->i;
  }
  static std::vector<int64_t> as_ints(const PyRef &o, const char *what) {
    if (o->kind != PyObj::Kind::Tuple && o->kind != PyObj::Kind::List)
      pickle_fail(std::string("expected a tuple for ") + what);
    std::vector<int64_t> v;
    for (auto &x : o->items)
      v.push_back(as_int(x, what));
    return v;
  }

  PyRef persistent_load(const PyRef &pid) {
    // ('storage', <torch.XStorage>, key, location, numel[, view_metadata])
    if (pid->kind != PyObj::Kind::Tuple || pid->items.size() < 5 || pid->items[0]->s != "storage")
      pickle_fail("unsupported persistent id in the pickle");
    if (pid->items.size() > 5 && pid->items[5]->kind != PyObj::Kind::None)
      pickle_fail("storage views of the legacy format are not supported");
    const auto dtype = storage_dtype(pid->items[1]->s);
    const auto &key = pid->items[2]->s;
    auto o = make(PyObj::Kind::Tensor);
    o->tensor = storages_.get(key, dtype, as_int(pid->items[4], "storage size"));
    return o;
  }

  PyRef rebuild_tensor(const std::vector<PyRef> &a) {
    if (a.size() < 4 || a[0]->kind != PyObj::Kind::Tensor)
      pickle_fail("malformed _rebuild_tensor arguments");
    const auto &storage = a[0]->tensor;
    const int64_t offset = as_int(a[1], "storage offset");
    const auto size = as_ints(a[2], "tensor size");
    const auto stride = as_ints(a[3], "tensor stride");
    int64_t last = offset;
    bool empty = false;
    for (size_t d = 0; d < size.size(); ++d) {
      if (size[d] == 0)
        empty = true;
      last += (size[d] - 1) * stride[d];
    }
    if (size.size() != stride.size() || offset < 0 || (!empty && last >= storage.numel()))
      pickle_fail("a tensor does not fit its storage (truncated or corrupt file)");
    auto t = at::empty({0}, storage.options());
    t.set_(storage.storage(), offset, size, stride);
    auto o = make(PyObj::Kind::Tensor);
    o->tensor = t;
    return o;
  }

  PyRef call(const PyRef &callable, const PyRef &args) {
    if (callable->kind != PyObj::Kind::Global) {
      auto o = make(PyObj::Kind::Object);
      o->s = "?";
      return o;
    }
    const std::string &name = callable->s;
    const auto &a = args->items;
    if (name == "collections.OrderedDict" || name == "builtins.dict" || name == "__builtin__.dict")
      return make(PyObj::Kind::Dict);
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
      return rebuild_tensor(a);
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != PyObj::Kind::Tensor)
        pickle_fail("malformed _rebuild_parameter arguments");
      return a[0];
    }
    if (name == "torch.jit._pickle.restore_type_tag" && !a.empty())
      return a[0]; // LibTorch's pickle_save wraps dicts/lists with their static type
    if (name == "torch._tensor._rebuild_from_type_v2" && a.size() >= 3) {
      return call(a[0], a[2]); // (func, type, args, state): rebuild the plain tensor
    }
    auto o = make(PyObj::Kind::Object);
    o->s = name;
    return o;
  }

  const std::string &data_;
  size_t pos_;
  StorageTable &storages_;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::map<size_t, PyRef> memo_;
};

} // namespace

at::Tensor StorageTable::get(const std::string &key, at::ScalarType dtype, int64_t numel) {
  auto it = by_key.find(key);
  if (it != by_key.end())
    return order[it->second].data;
  if (numel < 0)
    pickle_fail("negative storage size for storage '" + key + "'");
  by_key[key] = order.size();
  order.push_back({at::empty({numel}, at::TensorOptions().dtype(dtype)), key});
  return order.back().data;
}

PyRef unpickle(const std::string &bytes, size_t pos, StorageTable &storages, size_t &end) {
  Unpickler u(bytes, pos, storages);
  PyRef v = u.run();
  end = u.position();
  return v;
}

} // namespace prn::detail
