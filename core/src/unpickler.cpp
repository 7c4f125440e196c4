// The pickle machine of torch_pickle.cpp (see internal/unpickler.h): the opcode
// interpreter with its stack, marks and memo. The values it builds come from
// unpickler_objects.cpp.
#include "internal/unpickler.h"
#include "internal/unpickler_objects.h"

#include <cstring>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace prn::detail {

void pickle_fail(const std::string &what) { throw std::runtime_error(what); }

namespace {

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
        push(persistent_load(pid, storages_));
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

  const std::string &data_;
  size_t pos_;
  StorageTable &storages_;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::map<size_t, PyRef> memo_;
};

} // namespace

PyRef unpickle(const std::string &bytes, size_t pos, StorageTable &storages, size_t &end) {
  Unpickler u(bytes, pos, storages);
  PyRef v = u.run();
  end = u.position();
  return v;
}

} // namespace prn::detail
