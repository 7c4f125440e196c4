/* The small, strict JSON parser (RFC 8259) of json_parser.h. */
#include "json_parser.h"

#include <glib.h>

namespace prntest {

namespace {

class JsonParser {
public:
  explicit JsonParser (const std::string &s) : s_ (s) {}

  /* The whole text must be one value (whitespace around it allowed). */
  bool parse (Json &out)
  {
    ws ();
    if (!value (out, 0))
      return false;
    ws ();
    return i_ == s_.size ();
  }

private:
  const std::string &s_;
  size_t i_ = 0;

  void ws ()
  {
    while (i_ < s_.size () && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' ||
            s_[i_] == '\r'))
      i_++;
  }
  bool eat (char c)
  {
    if (i_ < s_.size () && s_[i_] == c) {
      i_++;
      return true;
    }
    return false;
  }
  bool literal (const char *word)
  {
    const std::string w (word);
    if (s_.compare (i_, w.size (), w) != 0)
      return false;
    i_ += w.size ();
    return true;
  }
  bool digits ()
  {
    const size_t start = i_;
    while (i_ < s_.size () && s_[i_] >= '0' && s_[i_] <= '9')
      i_++;
    return i_ > start;
  }
  bool number (Json &out)
  {
    const size_t start = i_;
    eat ('-');
    if (eat ('0')) {
      /* no leading zeros */
    } else if (!digits ()) {
      return false;
    }
    if (eat ('.') && !digits ())
      return false;
    if (eat ('e') || eat ('E')) {
      if (!eat ('+'))
        eat ('-');
      if (!digits ())
        return false;
    }
    out.type = Json::NUMBER;
    out.text = s_.substr (start, i_ - start);
    return true;
  }
  static void utf8 (std::string &out, unsigned cp)
  {
    if (cp < 0x80) {
      out += static_cast<char> (cp);
    } else if (cp < 0x800) {
      out += static_cast<char> (0xc0 | (cp >> 6));
      out += static_cast<char> (0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char> (0xe0 | (cp >> 12));
      out += static_cast<char> (0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char> (0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char> (0xf0 | (cp >> 18));
      out += static_cast<char> (0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char> (0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char> (0x80 | (cp & 0x3f));
    }
  }
  bool hex4 (unsigned &cp)
  {
    if (i_ + 4 > s_.size ())
      return false;
    cp = 0;
    for (int k = 0; k < 4; k++) {
      const char c = s_[i_++];
      const int v = g_ascii_xdigit_value (c);
      if (v < 0)
        return false;
      cp = cp * 16 + v;
    }
    return true;
  }
  bool string (std::string &out)
  {
    if (!eat ('"'))
      return false;
    while (i_ < s_.size ()) {
      const auto c = static_cast<unsigned char> (s_[i_++]);
      if (c == '"')
        return g_utf8_validate (out.data (), out.size (), nullptr);
      if (c < 0x20)
        return false;           /* raw control characters are not allowed */
      if (c != '\\') {
        out += static_cast<char> (c);
        continue;
      }
      if (i_ >= s_.size ())
        return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp;
          if (!hex4 (cp))
            return false;
          if (cp >= 0xd800 && cp < 0xdc00) {
            unsigned lo;
            if (!eat ('\\') || !eat ('u') || !hex4 (lo) || lo < 0xdc00 || lo >= 0xe000)
              return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            return false;
          }
          utf8 (out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool value (Json &out, int depth)
  {
    if (depth > 32 || i_ >= s_.size ())
      return false;
    const char c = s_[i_];
    if (c == 'n' && literal ("null")) {
      out.type = Json::NUL;
      return true;
    }
    if (c == 't' && literal ("true")) {
      out.type = Json::BOOL;
      out.boolean = true;
      return true;
    }
    if (c == 'f' && literal ("false")) {
      out.type = Json::BOOL;
      return true;
    }
    if (c == '"') {
      out.type = Json::STRING;
      return string (out.text);
    }
    if (c == '[') {
      i_++;
      out.type = Json::ARRAY;
      ws ();
      if (eat (']'))
        return true;
      do {
        ws ();
        out.items.emplace_back ();
        if (!value (out.items.back (), depth + 1))
          return false;
        ws ();
      } while (eat (','));
      return eat (']');
    }
    if (c == '{') {
      i_++;
      out.type = Json::OBJECT;
      ws ();
      if (eat ('}'))
        return true;
      do {
        ws ();
        std::string key;
        if (!string (key))
          return false;
        for (const auto &m : out.members)
          if (m.first == key)
            return false;       /* duplicate keys: not what a reader expects */
        ws ();
        if (!eat (':'))
          return false;
        ws ();
        out.members.emplace_back (key, Json ());
        if (!value (out.members.back ().second, depth + 1))
          return false;
        ws ();
      } while (eat (','));
      return eat ('}');
    }
    return number (out);
  }
};

}  // namespace

bool
parse_json (const std::string &text, Json &out)
{
  out = Json ();
  return JsonParser (text).parse (out);
}

}  // namespace prntest
