/* A small, strict JSON parser (RFC 8259) for the prnline tests: enough to check
 * the lines prnjsonlines writes. The parser itself is in json_parser.cpp. */
#pragma once

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace prntest {

/* A JSON value; a member that is not there reads as MISSING. */
struct Json {
  enum Type { MISSING, NUL, BOOL, NUMBER, STRING, ARRAY, OBJECT } type = MISSING;
  bool boolean = false;
  std::string text;             /* a number's literal, or a string's value */
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json &operator[] (const std::string &key) const
  {
    static const Json missing;
    for (const auto &m : members)
      if (m.first == key)
        return m.second;
    return missing;
  }
  const Json &operator[] (size_t i) const { return items.at (i); }
  double num () const { return std::strtod (text.c_str (), nullptr); }
  long long integer () const { return std::strtoll (text.c_str (), nullptr, 10); }
  bool is_integer () const
  {
    return type == NUMBER && text.find_first_of (".eE") == std::string::npos;
  }
  std::vector<std::string> keys () const
  {
    std::vector<std::string> k;
    for (const auto &m : members)
      k.push_back (m.first);
    return k;
  }
};

/* Parses `text`, which must be one JSON value (whitespace around it allowed),
 * into `out`; false when it is not strict JSON. */
bool parse_json (const std::string &text, Json &out);

}  // namespace prntest
