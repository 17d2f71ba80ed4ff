#include "sinks/buffer/record_codec.hpp"

#include <cstdint>
#include <cstring>

namespace wattline::sink_buffer {
namespace {

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T)); // the buffer is host-local; x86/ARM Linux are little-endian
  out.append(b, sizeof(T));
}

void put_str(std::string& out, std::string_view s) {
  put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

struct reader {
  std::string_view d;
  bool ok = true;

  template <class T>
  T get() {
    T v{};
    if (d.size() < sizeof(T)) {
      ok = false;
      return v;
    }
    std::memcpy(&v, d.data(), sizeof(T));
    d.remove_prefix(sizeof(T));
    return v;
  }
  std::string str() {
    auto n = get<uint32_t>();
    if (!ok || d.size() < n) {
      ok = false;
      return {};
    }
    std::string s{d.substr(0, n)};
    d.remove_prefix(n);
    return s;
  }
};

} // namespace

void encode_record(const record& r, std::string& out) {
  put_str(out, r.name);
  put<uint32_t>(out, static_cast<uint32_t>(r.tags.size()));
  for (const auto& [k, v] : r.tags) {
    put_str(out, k);
    put_str(out, v);
  }
  put<uint32_t>(out, static_cast<uint32_t>(r.fields.size()));
  for (const auto& f : r.fields) {
    put_str(out, f.key);
    out.push_back(static_cast<char>(f.value.index()));
    switch (f.value.index()) {
    case 0:
      put<double>(out, std::get<double>(f.value));
      break;
    case 1:
      put<int64_t>(out, std::get<int64_t>(f.value));
      break;
    case 2:
      put<uint64_t>(out, std::get<uint64_t>(f.value));
      break;
    case 3:
      out.push_back(std::get<bool>(f.value) ? 1 : 0);
      break;
    default:
      put_str(out, std::get<std::string>(f.value));
      break;
    }
    put_str(out, f.unit);
    put_str(out, f.obis);
  }
  put<int64_t>(out, r.time_ns);
}

bool decode_record(std::string_view data, record& out) {
  reader in{data};
  out = record{};
  out.name = in.str();
  auto tags = in.get<uint32_t>();
  if (!in.ok || tags > in.d.size() / 8)
    return false;
  out.tags.reserve(tags);
  for (uint32_t i = 0; i < tags && in.ok; ++i) {
    auto k = in.str();
    auto v = in.str();
    out.tags.emplace_back(std::move(k), std::move(v));
  }
  auto fields = in.get<uint32_t>();
  if (!in.ok || fields > in.d.size() / 9)
    return false;
  out.fields.reserve(fields);
  for (uint32_t i = 0; i < fields && in.ok; ++i) {
    field f;
    f.key = in.str();
    auto type = in.get<uint8_t>();
    switch (type) {
    case 0:
      f.value = in.get<double>();
      break;
    case 1:
      f.value = in.get<int64_t>();
      break;
    case 2:
      f.value = in.get<uint64_t>();
      break;
    case 3: {
      auto b = in.get<uint8_t>();
      if (b > 1)
        return false;
      f.value = b == 1;
      break;
    }
    case 4:
      f.value = in.str();
      break;
    default:
      return false;
    }
    f.unit = in.str();
    f.obis = in.str();
    out.fields.push_back(std::move(f));
  }
  out.time_ns = in.get<int64_t>();
  return in.ok && in.d.empty();
}

std::size_t record_footprint(const record& r) {
  std::size_t n = sizeof(record) + r.name.size();
  for (const auto& [k, v] : r.tags)
    n += 2 * sizeof(std::string) + k.size() + v.size();
  for (const auto& f : r.fields) {
    n += sizeof(field) + f.key.size() + f.unit.size() + f.obis.size();
    if (auto* s = std::get_if<std::string>(&f.value))
      n += s->size();
  }
  return n;
}

} // namespace wattline::sink_buffer
