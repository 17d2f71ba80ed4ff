#pragma once

// The data units that flow between wattline nodes. Plain C++: no CAF include here, so that codecs
// and transforms can use them without pulling the actor runtime into their compile units.

#include <cassert>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace wattline {

/// Immutable text of a field's key, unit or OBIS code, 24 bytes. Three representations:
/// - inline: up to `inline_capacity` (23) characters stored in the object itself;
/// - borrowed: a view of characters with static storage duration (string literals, static
///   tables), made only by `field_text::borrowed`; no copy, no allocation, copies stay borrowed;
/// - heap: an owned copy of longer text; copies are deep.
/// Every implicit constructor copies the text (inline or heap), so a `field_text` never dangles
/// unless `borrowed` was given storage that does not outlive it. `data()` is not NUL-terminated.
class field_text {
public:
  /// The longest text stored in place (the longest OBIS code, "255-255:255.255.255*255").
  static constexpr std::size_t inline_capacity = 23;

  /// Empty text.
  field_text() noexcept { set_empty(); }
  // NOLINTBEGIN(google-explicit-constructor): field_text stands in where std::string was.
  /// Copies `text`.
  field_text(std::string_view text) { assign_copy(text); }
  /// Copies `text`.
  field_text(const std::string& text) { assign_copy(text); }
  /// Copies the NUL-terminated `text`.
  field_text(const char* text) { assign_copy(std::string_view(text)); }
  // NOLINTEND(google-explicit-constructor)

  /// Borrows `static_storage` without copying. Only for characters with static storage duration
  /// (string literals, `static` / `constexpr` tables): the result and all its copies refer to
  /// them for as long as they exist.
  [[nodiscard]] static field_text borrowed(std::string_view static_storage) noexcept {
    field_text t;
    t.set_external(static_storage.data(), static_storage.size(), borrowed_tag);
    return t;
  }

  /// A copy of `other`, which must own nothing (inline or borrowed text, as a decoder's prepared
  /// texts are): the 24 bytes are copied without looking at the kind. Copying heap text this way
  /// would free it twice.
  [[nodiscard]] static field_text unowned_copy(const field_text& other) noexcept {
    assert(!other.is_heap());
    field_text t;
    std::memcpy(t.bytes_, other.bytes_, sizeof bytes_);
    return t;
  }

  field_text(const field_text& other) {
    if (other.tag() == heap_tag)
      assign_copy(other.view());
    else
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
  }
  field_text(field_text&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.set_empty();
  }
  field_text& operator=(const field_text& other) {
    if (this != &other) {
      field_text copy(other);
      *this = std::move(copy);
    }
    return *this;
  }
  field_text& operator=(field_text&& other) noexcept {
    if (this != &other) {
      release();
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
      other.set_empty();
    }
    return *this;
  }
  ~field_text() { release(); }

  /// The characters.
  [[nodiscard]] std::string_view view() const noexcept {
    const unsigned char t = tag();
    if (t <= inline_capacity)
      return {bytes_, t};
    return {external_data(), external_size()};
  }
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator std::string_view() const noexcept { return view(); }
  /// An owned std::string copy.
  [[nodiscard]] std::string str() const { return std::string(view()); }
  /// The first character; not NUL-terminated.
  [[nodiscard]] const char* data() const noexcept { return view().data(); }
  [[nodiscard]] std::size_t size() const noexcept { return view().size(); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  /// True when the text is stored in place.
  [[nodiscard]] bool is_inline() const noexcept { return tag() <= inline_capacity; }
  /// True when the text is borrowed static storage.
  [[nodiscard]] bool is_borrowed() const noexcept { return tag() == borrowed_tag; }
  /// True when the text is an owned heap copy.
  [[nodiscard]] bool is_heap() const noexcept { return tag() == heap_tag; }

  friend bool operator==(const field_text& a, const field_text& b) noexcept {
    return a.view() == b.view();
  }
  friend bool operator==(const field_text& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator==(const field_text& a, const std::string& b) noexcept {
    return a.view() == std::string_view(b);
  }
  friend bool operator==(const field_text& a, const char* b) noexcept {
    return a.view() == std::string_view(b);
  }
  friend std::strong_ordering operator<=>(const field_text& a, const field_text& b) noexcept {
    return a.view() <=> b.view();
  }
  friend std::strong_ordering operator<=>(const field_text& a, std::string_view b) noexcept {
    return a.view() <=> b;
  }
  friend std::strong_ordering operator<=>(const field_text& a, const std::string& b) noexcept {
    return a.view() <=> std::string_view(b);
  }
  friend std::strong_ordering operator<=>(const field_text& a, const char* b) noexcept {
    return a.view() <=> std::string_view(b);
  }
  friend std::ostream& operator<<(std::ostream& os, const field_text& t) { return os << t.view(); }

private:
  static constexpr unsigned char borrowed_tag = 0x40;
  static constexpr unsigned char heap_tag = 0x41;
  static constexpr std::size_t tag_pos = 23;

  [[nodiscard]] unsigned char tag() const noexcept {
    return static_cast<unsigned char>(bytes_[tag_pos]);
  }
  void set_tag(unsigned char t) noexcept { bytes_[tag_pos] = static_cast<char>(t); }
  void set_empty() noexcept { set_tag(0); }
  [[nodiscard]] const char* external_data() const noexcept {
    const char* p;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  [[nodiscard]] std::size_t external_size() const noexcept {
    std::size_t n;
    std::memcpy(&n, bytes_ + sizeof(const char*), sizeof n);
    return n;
  }
  void set_external(const char* p, std::size_t n, unsigned char t) noexcept {
    std::memcpy(bytes_, &p, sizeof p);
    std::memcpy(bytes_ + sizeof p, &n, sizeof n);
    set_tag(t);
  }
  /// Stores a copy of `text`; the current contents must not own anything.
  void assign_copy(std::string_view text) {
    const std::size_t n = text.size();
    if (n <= inline_capacity) {
      if (n != 0)
        std::memcpy(bytes_, text.data(), n);
      set_tag(static_cast<unsigned char>(n));
    } else {
      char* p = new char[n];
      std::memcpy(p, text.data(), n);
      set_external(p, n, heap_tag);
    }
  }
  void release() noexcept {
    if (tag() == heap_tag)
      delete[] external_data();
  }

  // Inline: characters in [0, 23), the size in byte 23. Borrowed / heap: pointer and size in
  // [0, 16), the kind in byte 23.
  alignas(std::size_t) char bytes_[24];
};

static_assert(sizeof(field_text) == 24);

/// A field value, typed like InfluxDB's line protocol: float, signed and unsigned integer, bool,
/// string. The index order is part of the on-disk buffer format: append only.
using field_value = std::variant<double, int64_t, uint64_t, bool, std::string>;

/// One named value of a record, with optional metadata for sinks that use it.
struct field {
  field_text key;
  field_value value;
  /// Physical unit, e.g. "W", "kWh", "var", "varh"; empty when unknown or dimensionless.
  field_text unit;
  /// OBIS code `A-B:C.D.E*F` the value was read from; empty when not from a meter register.
  field_text obis;

  friend bool operator==(const field&, const field&) = default;
};

/// A measurement at one instant, modelled on a Telegraf metric.
struct record {
  /// Measurement name, e.g. "smartmeter".
  std::string name;
  /// Tags in insertion order; keys are unique. Texts like field keys: a meter id or MAC address
  /// is stored in place, a key from a string literal can be borrowed, so that a record's tags cost
  /// one allocation (the vector) however they were made.
  std::vector<std::pair<field_text, field_text>> tags;
  /// Fields in insertion order; keys are unique.
  std::vector<field> fields;
  /// UTC time in nanoseconds since the Unix epoch.
  int64_t time_ns = 0;

  friend bool operator==(const record&, const record&) = default;

  /// Returns the tag value for `key`, or nullptr.
  [[nodiscard]] const field_text* tag(std::string_view key) const {
    for (const auto& [k, v] : tags)
      if (k == key)
        return &v;
    return nullptr;
  }

  /// Sets (adds or replaces) a tag.
  void set_tag(field_text key, field_text value) {
    for (auto& [k, v] : tags)
      if (k == key) {
        v = std::move(value);
        return;
      }
    tags.emplace_back(std::move(key), std::move(value));
  }

  /// Returns the field named `key`, or nullptr.
  [[nodiscard]] const field* find_field(std::string_view key) const {
    for (const auto& f : fields)
      if (f.key == key)
        return &f;
    return nullptr;
  }

  /// Sets (adds or replaces) a field; unit and OBIS code are kept when replacing.
  field& set_field(field_text key, field_value value) {
    for (auto& f : fields)
      if (f.key == key) {
        f.value = std::move(value);
        return f;
      }
    fields.push_back(field{std::move(key), std::move(value), {}, {}});
    return fields.back();
  }
};

/// Raw bytes as a byte-level source (serial, tcp, binary file) received them, for decoders.
struct chunk {
  std::vector<uint8_t> bytes;
  /// UTC receive time of the last byte, nanoseconds since the Unix epoch.
  int64_t time_ns = 0;
  /// Where the bytes came from, e.g. "/dev/ttyUSB0" or "capture.bin".
  std::string origin;

  friend bool operator==(const chunk&, const chunk&) = default;
};

/// Returns the value as a double when it is numeric or bool; false otherwise.
[[nodiscard]] inline bool as_double(const field_value& v, double& out) {
  switch (v.index()) {
  case 0:
    out = std::get<double>(v);
    return true;
  case 1:
    out = static_cast<double>(std::get<int64_t>(v));
    return true;
  case 2:
    out = static_cast<double>(std::get<uint64_t>(v));
    return true;
  case 3:
    out = std::get<bool>(v) ? 1.0 : 0.0;
    return true;
  default:
    return false;
  }
}

} // namespace wattline

/// Hashes like the `std::string_view` of the text.
template <>
struct std::hash<wattline::field_text> {
  std::size_t operator()(const wattline::field_text& t) const noexcept {
    return std::hash<std::string_view>{}(t.view());
  }
};
