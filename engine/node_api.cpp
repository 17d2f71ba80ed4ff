#include "engine/node_api.hpp"

namespace wattline {

std::size_t batch::byte_size() const {
  std::size_t n = 0;
  for (const auto& c : chunks)
    n += c.bytes.size();
  for (const auto& r : records) {
    n += r.name.size() + 8;
    for (const auto& [k, v] : r.tags)
      n += k.size() + v.size();
    for (const auto& f : r.fields)
      n += f.key.size() + 8;
  }
  return n;
}

} // namespace wattline
