// The values the pickle machine of unpickler.cpp builds: objects, the storages
// of persistent ids, tensors rebuilt from them, and what calls of globals give
// (see internal/unpickler_objects.h).
#include "internal/unpickler_objects.h"

#include <map>
#include <string>
#include <vector>

namespace prn::detail {

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

namespace {

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

int64_t as_int(const PyRef &o, const char *what) {
  if (o->kind != PyObj::Kind::Int)
    pickle_fail(std::string("expected an integer for ") + what);
  return o->i;
}
std::vector<int64_t> as_ints(const PyRef &o, const char *what) {
  if (o->kind != PyObj::Kind::Tuple && o->kind != PyObj::Kind::List)
    pickle_fail(std::string("expected a tuple for ") + what);
  std::vector<int64_t> v;
  for (auto &x : o->items)
    v.push_back(as_int(x, what));
  return v;
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

} // namespace

PyRef persistent_load(const PyRef &pid, StorageTable &storages) {
  // ('storage', <torch.XStorage>, key, location, numel[, view_metadata])
  if (pid->kind != PyObj::Kind::Tuple || pid->items.size() < 5 || pid->items[0]->s != "storage")
    pickle_fail("unsupported persistent id in the pickle");
  if (pid->items.size() > 5 && pid->items[5]->kind != PyObj::Kind::None)
    pickle_fail("storage views of the legacy format are not supported");
  const auto dtype = storage_dtype(pid->items[1]->s);
  const auto &key = pid->items[2]->s;
  auto o = make(PyObj::Kind::Tensor);
  o->tensor = storages.get(key, dtype, as_int(pid->items[4], "storage size"));
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

} // namespace prn::detail
