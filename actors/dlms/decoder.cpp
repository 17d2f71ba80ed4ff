#include "actors/dlms/decoder.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <date/tz.h>

#include "actors/dlms/axdr.hpp"
#include "actors/dlms/cosem.hpp"
#include "actors/dlms/hdlc.hpp"
#include "actors/dlms/mbus.hpp"
#include "actors/dlms/obis_map.hpp"

namespace wattline::dlms {

std::string_view error_name(error_kind kind) noexcept {
  switch (kind) {
  case error_kind::crc:
    return "crc";
  case error_kind::framing:
    return "framing";
  case error_kind::garbage:
    return "garbage";
  case error_kind::truncated:
    return "truncated";
  case error_kind::segment_sequence:
    return "segment_sequence";
  case error_kind::oversize:
    return "oversize";
  case error_kind::gbt_gap:
    return "gbt_gap";
  case error_kind::gbt_duplicate:
    return "gbt_duplicate";
  case error_kind::gbt_incomplete:
    return "gbt_incomplete";
  case error_kind::no_key:
    return "no_key";
  case error_kind::wrong_key:
    return "wrong_key";
  case error_kind::auth_failed:
    return "auth_failed";
  case error_kind::unsupported_security:
    return "unsupported_security";
  case error_kind::unknown_apdu:
    return "unknown_apdu";
  case error_kind::malformed_data:
    return "malformed_data";
  case error_kind::unknown_shape:
    return "unknown_shape";
  case error_kind::no_values:
    return "no_values";
  }
  return "unknown";
}

std::string parse_key(std::string_view hex, std::optional<aes_key>& out) {
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.front())))
    hex.remove_prefix(1);
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back())))
    hex.remove_suffix(1);
  if (hex.empty()) {
    out.reset();
    return {};
  }
  if (hex.size() != 32)
    return "key must be 32 hex digits (16 bytes), got " + std::to_string(hex.size()) +
           " characters";
  aes_key k{};
  for (size_t i = 0; i < 32; ++i) {
    const char ch = hex[i];
    int v = -1;
    if (ch >= '0' && ch <= '9')
      v = ch - '0';
    else if (ch >= 'a' && ch <= 'f')
      v = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F')
      v = ch - 'A' + 10;
    if (v < 0)
      return "key must be 32 hex digits (16 bytes); character " + std::to_string(i + 1) +
             " is not a hex digit";
    k[i / 2] = static_cast<uint8_t>(k[i / 2] | (i % 2 == 0 ? v << 4 : v));
  }
  out = k;
  return {};
}

std::string validate(const options& opts) {
  if (find_profile(opts.profile) == nullptr) {
    std::string names;
    for (const auto& p : profiles()) {
      if (!names.empty())
        names += ", ";
      names += p.name;
    }
    return "unknown profile '" + opts.profile + "' (known: " + names + ")";
  }
  if (!opts.timezone.empty()) {
    try {
      (void)date::locate_zone(opts.timezone);
    } catch (const std::exception&) {
      return "unknown time zone '" + opts.timezone + "' (expected an IANA name like Europe/Zurich)";
    }
  }
  for (const auto& f : opts.fields) {
    std::string err;
    if (!parse_field_spec(f, err))
      return err;
  }
  if (opts.auth_key && !opts.key)
    return "auth_key given without key";
  if (opts.max_message_size < 256)
    return "max_message_size must be at least 256 bytes";
  return {};
}

namespace {

std::string hex_string(std::span<const uint8_t> b) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t x : b) {
    s.push_back(digits[x >> 4]);
    s.push_back(digits[x & 0x0F]);
  }
  return s;
}

/// System title for messages (not secret): hex.
std::string describe_system_title(std::span<const uint8_t, 8> st) {
  return hex_string(st);
}

/// A scaling decided once: raw * k, or raw / k where a division gives the nearest double.
struct scale_step {
  bool divide = false;
  double k = 1.0;

  [[nodiscard]] double apply(double raw) const noexcept { return divide ? raw / k : raw * k; }
};

/// raw * factor, computed as a division for factors like 0.01 so that 165 * 0.01 gives 1.65
/// (the nearest double) rather than 1.6500000000000001; decided once per factor.
struct prepared_factor {
  double factor = 1.0;
  double divisor = 0;

  explicit prepared_factor(double f = 1.0) : factor(f) {
    if (f > 0 && f < 1) {
      const double inverse = std::round(1.0 / f);
      if (std::abs(inverse * f - 1.0) < 1e-12)
        divisor = inverse;
    }
  }
  [[nodiscard]] scale_step step() const noexcept {
    return divisor != 0 ? scale_step{true, divisor} : scale_step{false, factor};
  }
  [[nodiscard]] double apply(double raw) const noexcept { return step().apply(raw); }
};

/// raw * 10^scaler, as a division by 10^-scaler when the scaler is negative.
scale_step scaler_step(int scaler) {
  static constexpr double pow10[] = {1e0, 1e1, 1e2, 1e3,  1e4,  1e5, 1e6,
                                     1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
  if (scaler >= 0)
    return {false, scaler <= 12 ? pow10[scaler] : std::pow(10.0, scaler)};
  return {true, -scaler <= 12 ? pow10[-scaler] : std::pow(10.0, -scaler)};
}

double apply_scaler(double raw, int scaler) {
  return scaler == 0 ? raw : scaler_step(scaler).apply(raw);
}

/// smartmeter-datacollector's meter-id objects: x-x:42.0.0, 0-x:96.1.0..9, 1-x:0.0.0..9.
bool is_id_obis(const obis_code& o) noexcept {
  if (o.c == 42 && o.d == 0 && o.e == 0)
    return true;
  if (o.a == 0 && o.c == 96 && o.d == 1 && o.e <= 9)
    return true;
  return o.a == 1 && o.c == 0 && o.d == 0 && o.e <= 9;
}

bool is_clock_obis(const obis_code& o) noexcept {
  return o.a == 0 && o.c == 1 && o.d == 0 && o.e == 0;
}

bool is_push_setup(const obis_code& o) noexcept {
  return o.a == 0 && o.c == 25 && o.d == 9;
}

/// Converts to the `field_text` it initialises, so that `emplace_back` builds a field's texts in
/// place: a temporary `field_text` moved in costs a store-forwarding stall per text. `borrow` is
/// only for static storage (see `field_text::borrowed`).
struct text_init {
  std::string_view text;
  bool borrow = false;
  // NOLINTNEXTLINE(google-explicit-constructor): the implicit conversion is the point.
  operator field_text() const { return borrow ? field_text::borrowed(text) : field_text(text); }
};

/// A string literal / static table text to borrow.
text_init static_text(std::string_view text) noexcept {
  return {text, true};
}

/// Text to copy (it fits in place when at most `field_text::inline_capacity` characters).
text_init copied_text(std::string_view text) noexcept {
  return {text, false};
}

/// Appends a field built in place (the texts convert straight into the new element). Compilers
/// without parenthesised aggregate initialisation (clang < 16, used for the fuzz build) get a
/// moved temporary instead.
inline void add_field(std::vector<field>& fields, text_init key, double value, text_init unit,
                      text_init obis) {
#if defined(__cpp_aggregate_paren_init)
  fields.emplace_back(key, value, unit, obis);
#else
  fields.push_back(field{key, value, unit, obis});
#endif
}

/// Converts to an `unowned_copy` of a prepared text that owns nothing.
struct unowned_text {
  const field_text& text;
  // NOLINTNEXTLINE(google-explicit-constructor): the implicit conversion is the point.
  operator field_text() const noexcept { return field_text::unowned_copy(text); }
};

/// Appends a field whose texts are copies of prepared ones that own nothing (borrowed or inline;
/// the layout recording refuses others): the texts are copied without looking at their kind.
inline void add_prepared_field(std::vector<field>& fields, const field_text& key, double value,
                               const field_text& unit, const field_text& obis) {
#if defined(__cpp_aggregate_paren_init)
  fields.emplace_back(unowned_text{key}, value, unowned_text{unit}, unowned_text{obis});
#else
  fields.push_back(field{unowned_text{key}, value, unowned_text{unit}, unowned_text{obis}});
#endif
}

/// Resizes `v` to `n` bytes; inline when the size is already right (a message's buffers mostly
/// keep the size of the previous message's).
inline void set_size(std::vector<uint8_t>& v, size_t n) {
  if (v.size() != n) [[unlikely]]
    v.resize(n);
}

/// Unaligned 64-bit load.
inline uint64_t load64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// True when `p` and `want` hold the same bytes wherever `mask` is set (0xFF) over `n` bytes.
inline bool masked_equal(const uint8_t* p, const uint8_t* want, const uint8_t* mask,
                         size_t n) noexcept {
  size_t i = 0;
#if defined(__SSE2__)
  __m128i diff16 = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const auto x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const auto y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(want + i));
    const auto m = _mm_loadu_si128(reinterpret_cast<const __m128i*>(mask + i));
    diff16 = _mm_or_si128(diff16, _mm_and_si128(_mm_xor_si128(x, y), m));
  }
  if (_mm_movemask_epi8(_mm_cmpeq_epi8(diff16, _mm_setzero_si128())) != 0xFFFF)
    return false;
#endif
  uint64_t diff = 0;
  for (; i + 8 <= n; i += 8)
    diff |= (load64(p + i) ^ load64(want + i)) & load64(mask + i);
  for (; i < n; ++i)
    diff |= static_cast<uint64_t>((p[i] ^ want[i]) & mask[i]);
  return diff == 0;
}

/// Big-endian 32-bit integer at `p`.
inline uint32_t load_be32(const uint8_t* p) noexcept {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

bool is_scaler_unit(const std::vector<data_node>& n, size_t i) noexcept {
  return n[i].type == data_type::structure && n[i].count == 2 && i + 2 < n.size() &&
         n[i + 1].type == data_type::int8 && n[i + 2].type == data_type::enumeration;
}

} // namespace

struct decoder::impl {
  explicit impl(options o) : opts(std::move(o)) {
    if (auto err = validate(opts); !err.empty())
      throw std::invalid_argument("dlms decoder: " + err);
    prof = find_profile(opts.profile);
    try {
      tz = opts.timezone.empty() ? date::current_zone() : date::locate_zone(opts.timezone);
    } catch (const std::exception&) {
      tz = nullptr; // host zone unknown: wall times are taken as UTC
    }
    if (opts.key)
      cipher = std::make_unique<aes_gcm>(*opts.key);
    for (const auto& f : opts.fields) {
      std::string err;
      user_fields.push_back(*parse_field_spec(f, err));
    }
    for (const auto& reg : register_map())
      map_factors.emplace_back(factor_for(reg));
    for (const auto& list : prof->field_lists) {
      std::vector<field_spec> specs;
      for (auto f : list) {
        std::string err;
        if (auto s = parse_field_spec(f, err))
          specs.push_back(*s);
      }
      profile_fields.push_back(std::move(specs));
    }
  }

  // ---- configuration ----
  options opts;
  const profile_info* prof = nullptr;
  const date::time_zone* tz = nullptr;
  zone_offset_cache zone_cache;
  std::unique_ptr<aes_gcm> cipher;
  std::vector<field_spec> user_fields;
  /// The profile's factor of each register-map entry (same index), prepared.
  std::vector<prepared_factor> map_factors;
  /// The register map's first entry.
  const register_info* map_base = register_map().data();
  std::vector<std::vector<field_spec>> profile_fields;

  // ---- state ----
  decoder_stats st;
  std::vector<uint8_t> buf; // bytes kept from earlier feeds (an incomplete frame, mostly)
  /// What `run` decodes: `buf`, or a feed's bytes themselves when nothing was kept.
  std::span<const uint8_t> data;
  size_t pos = 0;               // in `data`
  bool after_frame = false;     // pos is at the closing flag of an accepted frame
  bool pending_flag = false;    // the stream ended with that closing flag, not kept in `buf`
  bool resyncing = false;       // skipping the remains of a rejected frame
  size_t garbage_run = 0;       // skipped bytes not yet reported
  std::vector<uint8_t> seg_buf; // HDLC segmentation
  enum class seg_status : uint8_t { idle, collecting, discarding } seg_state = seg_status::idle;
  std::vector<uint8_t> mbus_buf; // M-Bus segments
  bool mbus_active = false;
  uint8_t mbus_next = 0;
  enum class gbt_state : uint8_t { idle, collecting, discarding } gbt = gbt_state::idle;
  uint16_t gbt_next = 0;
  std::vector<uint8_t> gbt_buf;
  std::vector<uint8_t> gbt_msg;
  std::vector<uint8_t> plain;
  std::vector<uint8_t> aad;
  std::vector<data_node> nodes;
  std::string cached_id;
  // The tag values of the last record, copied into each record (in place, no allocation).
  field_text meter_tag;
  field_text profile_tag{opts.profile};

  // ---- per feed ----
  decode_result* out = nullptr;
  int64_t now = 0;

  void error(error_kind k, std::string msg) {
    flush_garbage();
    report(k, std::move(msg));
  }

  void report(error_kind k, std::string msg) {
    link_rec_abort();
    st.errors[static_cast<size_t>(k)]++;
    out->errors.push_back(error_event{k, std::move(msg), now});
  }

  void flush_garbage() {
    if (garbage_run > 0) [[unlikely]]
      report_garbage();
  }

  [[gnu::noinline]] void report_garbage() {
    const size_t n = garbage_run;
    garbage_run = 0;
    report(error_kind::garbage, std::to_string(n) + " bytes outside any frame skipped");
  }

  void skip(size_t n) {
    if (after_frame) {
      // The closing flag of the previous frame, not garbage.
      after_frame = false;
      pos += 1;
      n -= 1;
    }
    if (n == 0)
      return;
    link_rec_abort();
    // Bytes were lost: an HDLC segment may have been among them (segments carry no number).
    drop_segments();
    if (!resyncing)
      garbage_run += n;
    pos += n;
  }

  /// Drops an HDLC segmented message in progress after a frame or bytes were lost.
  void drop_segments() {
    if (seg_state == seg_status::collecting)
      error(error_kind::truncated, "HDLC segmented message incomplete: a frame was lost");
    if (seg_state != seg_status::idle) {
      seg_state = seg_status::discarding;
      seg_buf.clear();
    }
  }

  /// Skips to the next byte that may start a frame / APDU.
  void skip_to_candidate() {
    size_t i = pos + 1;
    const bool raw = opts.framing == transport::raw;
    for (; i < data.size(); ++i) {
      const uint8_t b = data[i];
      if (raw ? (b == 0x0F || b == 0xDB || b == 0xDC || b == 0xE0 || b == 0xE6)
              : ((b == hdlc_flag && opts.framing != transport::mbus) ||
                 (b == mbus_start && opts.framing != transport::hdlc)))
        break;
    }
    skip(i - pos);
  }

  void accept_frame() {
    flush_garbage();
    resyncing = false;
    st.frames++;
  }

  void reject_frame(error_kind k, std::string msg) {
    error(k, std::move(msg));
    drop_segments();
    after_frame = false;
    resyncing = true;
    pos += 1;
  }

  void run() {
    const bool raw = opts.framing == transport::raw;
    while (pos < data.size()) {
      const auto avail = data.subspan(pos);
      const uint8_t b = avail[0];
      if (raw) {
        if (b == 0x0F || b == 0xDB || b == 0xDC || b == 0xE0 || b == 0xE6) {
          size_t n = 0;
          const auto s = apdu_extent(avail, opts.max_message_size, n, nodes);
          if (s == apdu_status::truncated)
            return;
          if (s == apdu_status::ok && n > 0) {
            accept_frame();
            after_frame = false;
            pos += n;
            link_payload(avail.first(n));
            continue;
          }
        }
        skip_to_candidate();
        continue;
      }
      if (b == hdlc_flag && opts.framing != transport::mbus) {
        if (avail.size() < 2)
          return;
        if (avail[1] == hdlc_flag) { // flag fill or closing + opening flag
          if (link_rec_on && link_rec_block) {
            if (link_rec_room(1))
              link_rec.bytes.push_back(hdlc_flag);
            else
              link_rec_abort();
          }
          after_frame = false;
          pos += 1;
          continue;
        }
        if (opts.replay_layouts && link_tmpl.valid && link_idle()) {
          const auto m = link_replay(avail);
          if (m == link_match::done)
            continue;
          if (m == link_match::wait)
            return;
        }
        hdlc_frame f;
        switch (parse_hdlc(avail, f)) {
        case hdlc_status::need_more:
          return;
        case hdlc_status::ok:
          accept_frame();
          pos += f.size;
          after_frame = true;
          if (opts.replay_layouts)
            link_rec_frame_begin(avail, f);
          hdlc(f);
          link_rec_frame = nullptr;
          continue;
        case hdlc_status::bad_hcs:
          reject_frame(error_kind::crc, "HDLC header checksum (HCS) mismatch");
          continue;
        case hdlc_status::bad_fcs:
          reject_frame(error_kind::crc, "HDLC frame checksum (FCS) mismatch");
          continue;
        case hdlc_status::bad_flag:
          reject_frame(error_kind::framing, "HDLC closing flag missing");
          continue;
        case hdlc_status::not_a_frame:
          skip_to_candidate();
          continue;
        }
      }
      if (b == mbus_start && opts.framing != transport::hdlc) {
        mbus_frame f;
        switch (parse_mbus(avail, f)) {
        case mbus_status::need_more:
          return;
        case mbus_status::ok:
          link_rec_abort();
          accept_frame();
          after_frame = false;
          pos += f.size;
          mbus(f);
          continue;
        case mbus_status::bad_checksum:
          reject_frame(error_kind::crc, "M-Bus checksum mismatch");
          continue;
        case mbus_status::bad_stop:
          reject_frame(error_kind::framing, "M-Bus stop byte missing");
          continue;
        case mbus_status::not_a_frame:
          skip_to_candidate();
          continue;
        }
      }
      skip_to_candidate();
    }
  }

  std::vector<uint8_t> frame_copy;

  // ---------------------------------------------------------------- link template

  /// A message of whole HDLC frames that each carry one general-block-transfer block, kept so
  /// that the next message whose frames have the same bytes outside the block data and the FCS
  /// is reassembled without parsing them: a meter pushes its message in the same frames every
  /// time (same addresses, lengths, block numbers, ciphering header), only the data differs.
  /// The frames' HCS are among the fixed bytes, so they were checked when the template was
  /// recorded; each FCS is checked again. The reassembled message then takes the general path
  /// (`apdu`), exactly as after the last block of the walked frames: the link-layer decisions of
  /// the walk (frame boundaries, control field, LLC, segmentation, block numbers and lengths)
  /// depend only on the fixed bytes, so the outcome is the walk's, record for record and error
  /// for error. A template is recorded only from a message that decoded to exactly one record
  /// with no error, starting with no message in progress.
  struct link_template {
    struct frame {
      uint32_t start = 0;    // offset of the opening flag in `bytes`
      uint32_t size = 0;     // opening flag to FCS, as `hdlc_frame::size`
      uint32_t data_at = 0;  // the block data, up to the FCS
      uint32_t data_len = 0; //
    };
    /// A run of bytes the next message must repeat.
    struct fixed_run {
      uint32_t at = 0;
      uint32_t len = 0;
    };
    bool valid = false;
    std::vector<uint8_t> bytes; // first opening flag to last closing flag
    std::vector<frame> frames;
    size_t data_len = 0; // the frames' block data together
    std::vector<fixed_run> fixed;
  };
  link_template link_tmpl;                 // replayed
  link_template link_rec;                  // being recorded
  bool link_rec_on = false;                //
  const uint8_t* link_rec_frame = nullptr; // the recorded frame being handled (its opening flag)
  size_t link_rec_size = 0;                // and its `hdlc_frame::size`
  bool link_rec_block = false;             // that frame gave its block
  /// A message that matched a template so far but is not complete: where it starts in `buf` and
  /// how many of its frames passed their FCS (so that they are not checked again).
  size_t link_wait_pos = SIZE_MAX;
  size_t link_wait_frames = 0;

  /// Whether `n` more bytes keep a recording within bounds.
  [[nodiscard]] bool link_rec_room(size_t n) const noexcept {
    return link_rec.bytes.size() + n <= opts.max_message_size + 4096;
  }

  [[nodiscard]] bool link_idle() const noexcept {
    return gbt == gbt_state::idle && seg_state == seg_status::idle;
  }

  void link_rec_abort() noexcept {
    link_rec_on = false;
    link_rec_frame = nullptr;
  }

  /// Called for every accepted HDLC frame before it is handled.
  void link_rec_frame_begin(std::span<const uint8_t> avail, const hdlc_frame& f) {
    if (link_rec_on && !link_rec_block)
      link_rec_abort(); // the previous frame gave no block
    if (!link_rec_on) {
      if (!link_idle())
        return;
      link_rec_on = true;
      link_rec.valid = false;
      link_rec.bytes.clear();
      link_rec.frames.clear();
    }
    link_rec_frame = avail.data();
    link_rec_size = f.size;
    link_rec_block = false;
  }

  /// Called for every general-block-transfer block.
  void link_rec_block_seen(const gbt_block& b) {
    if (!link_rec_on)
      return;
    const auto frame = reinterpret_cast<uintptr_t>(link_rec_frame);
    const auto data = reinterpret_cast<uintptr_t>(b.data.data());
    if (link_rec_block || frame == 0 || data < frame ||
        data + b.data.size() != frame + link_rec_size - 2 || !link_rec_room(link_rec_size)) {
      link_rec_abort(); // not one block ending at the FCS of the frame being handled
      return;
    }
    link_rec_block = true;
    link_template::frame fr;
    fr.start = static_cast<uint32_t>(link_rec.bytes.size());
    fr.size = static_cast<uint32_t>(link_rec_size);
    fr.data_at = fr.start + static_cast<uint32_t>(data - frame);
    fr.data_len = static_cast<uint32_t>(b.data.size());
    link_rec.frames.push_back(fr);
    link_rec.bytes.insert(link_rec.bytes.end(), link_rec_frame, link_rec_frame + link_rec_size);
  }

  /// The recorded frames form a message that decoded to one record and no error: keep them.
  void link_rec_finish() {
    link_rec.bytes.push_back(hdlc_flag); // the last frame's closing flag
    link_rec.fixed.clear();
    link_rec.data_len = 0;
    uint32_t at = 0;
    for (const auto& fr : link_rec.frames) {
      link_rec.data_len += fr.data_len;
      if (fr.data_at > at)
        link_rec.fixed.push_back({at, fr.data_at - at});
      at = fr.start + fr.size; // block data and FCS vary
    }
    link_rec.fixed.push_back({at, static_cast<uint32_t>(link_rec.bytes.size()) - at});
    link_rec.valid = true;
    std::swap(link_tmpl, link_rec);
    link_rec_abort();
  }

  enum class link_match : uint8_t { miss, wait, done };

  /// Tries the template on the frames at `pos`.
  link_match link_replay(std::span<const uint8_t> avail) {
    const auto& t = link_tmpl;
    const size_t n = t.bytes.size();
    const size_t have = std::min(avail.size(), n);
    for (const auto& run : t.fixed) {
      if (run.at >= have)
        break;
      const size_t len = std::min<size_t>(run.len, have - run.at);
      if (std::memcmp(avail.data() + run.at, t.bytes.data() + run.at, len) != 0)
        return link_match::miss;
    }
    size_t checked = link_wait_pos == pos ? link_wait_frames : 0;
    link_wait_pos = SIZE_MAX; // kept only by a wait below
    for (; checked < t.frames.size(); ++checked) {
      const auto& fr = t.frames[checked];
      if (fr.start + fr.size >= have)
        break; // closing flag not there yet
      if (!hdlc_fcs_ok(avail.subspan(fr.start, fr.size)))
        return link_match::miss;
    }
    if (have < n) {
      // Skipped bytes are reported when the walk accepts the next frame: hold nothing then.
      if (garbage_run > 0)
        return link_match::miss;
      link_wait_pos = pos;
      link_wait_frames = checked;
      return link_match::wait;
    }
    link_rec_abort();
    set_size(gbt_msg, t.data_len);
    uint8_t* to = gbt_msg.data();
    for (const auto& fr : t.frames) {
      accept_frame();
      std::memcpy(to, avail.data() + fr.data_at, fr.data_len);
      to += fr.data_len;
    }
    const auto& last = t.frames.back();
    pos += last.start + last.size;
    after_frame = true;
    gbt_buf.clear();
    st.link_replayed++;
    (void)apdu(gbt_msg, 1);
    return link_match::done;
  }

  // ---------------------------------------------------------------- link layer

  void hdlc(const hdlc_frame& f) {
    if (!hdlc_carries_data(f.control) || f.info.empty())
      return;
    auto info = f.info;
    const bool first = has_llc(info);
    if (first && seg_state != seg_status::idle) {
      if (seg_state == seg_status::collecting)
        error(error_kind::truncated, "HDLC segmented message incomplete: a new message started");
      seg_state = seg_status::idle;
      seg_buf.clear();
    }
    if (seg_state == seg_status::discarding) {
      // Continuation segments of a message whose start was lost.
      if (!f.segmented)
        seg_state = seg_status::idle;
      return;
    }
    if (seg_state == seg_status::idle) {
      if (first)
        info = info.subspan(3);
      if (f.segmented) {
        if (!first) {
          // A segmented message must begin with the LLC header: its first segment was lost.
          error(error_kind::truncated, "HDLC segment without the first segment of its message");
          seg_state = seg_status::discarding;
          return;
        }
        seg_buf.assign(info.begin(), info.end());
        seg_state = seg_status::collecting;
        return;
      }
      link_payload(info);
      return;
    }
    if (seg_buf.size() + info.size() > opts.max_message_size) {
      error(error_kind::oversize, "HDLC segmented message exceeds max_message_size");
      seg_state = seg_status::discarding;
      seg_buf.clear();
      if (!f.segmented)
        seg_state = seg_status::idle;
      return;
    }
    seg_buf.insert(seg_buf.end(), info.begin(), info.end());
    if (!f.segmented) {
      seg_state = seg_status::idle;
      frame_copy.swap(seg_buf);
      seg_buf.clear();
      link_payload(frame_copy);
    }
  }

  void mbus(const mbus_frame& f) {
    if (f.data.size() < 2) {
      error(error_kind::framing, "M-Bus frame without transport SAPs");
      return;
    }
    const auto payload = f.data.subspan(2);
    const uint8_t seq = f.ci & 0x0F;
    const bool final = (f.ci & 0x10) != 0;
    if (seq == 0) {
      if (mbus_active)
        error(error_kind::truncated, "M-Bus segmented message incomplete: a new message started");
      mbus_buf.assign(payload.begin(), payload.end());
      mbus_active = true;
      mbus_next = 1;
    } else if (mbus_active && seq == mbus_next) {
      if (mbus_buf.size() + payload.size() > opts.max_message_size) {
        error(error_kind::oversize, "M-Bus segmented message exceeds max_message_size");
        mbus_active = false;
        return;
      }
      mbus_buf.insert(mbus_buf.end(), payload.begin(), payload.end());
      mbus_next = static_cast<uint8_t>((mbus_next + 1) & 0x0F);
    } else {
      error(error_kind::segment_sequence,
            "M-Bus segment " + std::to_string(seq) +
                (mbus_active ? " where " + std::to_string(mbus_next) + " was expected"
                             : " without segment 0"));
      mbus_active = false;
      return;
    }
    if (final) {
      mbus_active = false;
      frame_copy.swap(mbus_buf);
      mbus_buf.clear();
      link_payload(frame_copy);
    }
  }

  /// One link-layer message: one or more APDUs, each optionally behind an LLC header.
  void link_payload(std::span<const uint8_t> p) {
    size_t at = 0;
    bool first = true;
    while (at < p.size()) {
      auto rest = p.subspan(at);
      if (has_llc(rest)) {
        rest = rest.subspan(3);
        at += 3;
      } else if (!first && rest[0] != apdu_data_notification) {
        return; // trailing bytes after a notification: ignored
      }
      if (rest.empty()) {
        if (first)
          error(error_kind::truncated, "empty APDU");
        return;
      }
      if (!first)
        link_rec_abort(); // a frame replayed gives its first APDU only
      const size_t used = apdu(rest, 0);
      if (used == 0)
        return;
      at += used;
      first = false;
    }
  }

  // ---------------------------------------------------------------- APDU layer

  /// Handles one APDU; returns the bytes it used (0 to stop).
  size_t apdu(std::span<const uint8_t> a, int depth) {
    if (depth > 3) {
      error(error_kind::malformed_data, "APDUs nested too deep");
      return 0;
    }
    switch (a[0]) {
    case apdu_general_block_transfer: {
      gbt_block b;
      if (auto s = parse_gbt(a, b); s != apdu_status::ok) {
        error(s == apdu_status::truncated ? error_kind::truncated : error_kind::malformed_data,
              "general-block-transfer header invalid");
        return 0;
      }
      if (depth > 0) {
        error(error_kind::malformed_data, "general-block-transfer inside a transferred message");
        return 0;
      }
      block(b);
      return a.size();
    }
    case apdu_general_glo_ciphering:
    case apdu_general_ded_ciphering:
      ciphered(a, depth);
      return a.size();
    case apdu_data_notification:
      return notification(a);
    default: {
      static constexpr char digits[] = "0123456789ABCDEF";
      std::string msg = "unsupported APDU tag 0x";
      msg.push_back(digits[a[0] >> 4]);
      msg.push_back(digits[a[0] & 0x0F]);
      error(error_kind::unknown_apdu, std::move(msg));
      return 0;
    }
    }
  }

  void block(const gbt_block& b) {
    link_rec_block_seen(b);
    if (b.number == 1) {
      if (gbt == gbt_state::collecting)
        error(error_kind::gbt_incomplete,
              "general-block-transfer message dropped: block 1 arrived before block " +
                  std::to_string(gbt_next));
      gbt_buf.assign(b.data.begin(), b.data.end());
      gbt_next = 2;
      gbt = gbt_state::collecting;
    } else if (gbt == gbt_state::collecting) {
      if (b.number == gbt_next) {
        if (gbt_buf.size() + b.data.size() > opts.max_message_size) {
          error(error_kind::oversize, "general-block-transfer message exceeds max_message_size");
          gbt = b.last ? gbt_state::idle : gbt_state::discarding;
          return;
        }
        gbt_buf.insert(gbt_buf.end(), b.data.begin(), b.data.end());
        gbt_next = static_cast<uint16_t>(gbt_next + 1);
      } else {
        const bool dup = b.number < gbt_next;
        error(dup ? error_kind::gbt_duplicate : error_kind::gbt_gap,
              "general-block-transfer block " + std::to_string(b.number) + " where " +
                  std::to_string(gbt_next) + " was expected; message dropped");
        gbt = b.last ? gbt_state::idle : gbt_state::discarding;
        return;
      }
    } else if (gbt == gbt_state::discarding) {
      if (b.last)
        gbt = gbt_state::idle;
      return;
    } else {
      error(error_kind::gbt_gap, "general-block-transfer block " + std::to_string(b.number) +
                                     " without block 1; message dropped");
      gbt = b.last ? gbt_state::idle : gbt_state::discarding;
      return;
    }
    if (b.last) {
      gbt = gbt_state::idle;
      gbt_msg.swap(gbt_buf);
      gbt_buf.clear();
      if (gbt_msg.empty()) {
        error(error_kind::truncated, "general-block-transfer message is empty");
        return;
      }
      const bool recorded = link_rec_on && link_rec_block;
      const size_t records_before = out->records.size();
      const size_t used = apdu(gbt_msg, 1);
      (void)used;
      if (recorded && link_rec_on && out->records.size() == records_before + 1)
        link_rec_finish();
      else
        link_rec_abort();
    }
  }

  static bool plausible_plaintext(std::span<const uint8_t> p) noexcept {
    if (p.size() < 6 || p[0] != apdu_data_notification)
      return false;
    const uint8_t t = p[5];
    return t == 0x00 || t == 0x0C || t == 0x09 || t == 0x19;
  }

  void ciphered(std::span<const uint8_t> a, int depth) {
    ciphered_apdu c;
    if (auto s = parse_ciphered(a, c); s != apdu_status::ok) {
      error(s == apdu_status::truncated ? error_kind::truncated : error_kind::malformed_data,
            "ciphered APDU header invalid");
      return;
    }
    (void)depth;
    if (!plain.empty() && a.data() >= plain.data() && a.data() < plain.data() + plain.size()) {
      // Decrypting would overwrite the input: ciphering inside ciphering is not supported.
      error(error_kind::malformed_data, "ciphered APDU inside a ciphered APDU");
      return;
    }
    const uint8_t sc = c.security_control;
    const bool enc = (sc & 0x20) != 0;
    const bool auth = (sc & 0x10) != 0;
    if ((sc & 0x0F) > 1 || (sc & 0x80) != 0) {
      error(error_kind::unsupported_security,
            "security control 0x" + hex_string(std::span<const uint8_t>(&sc, 1)) +
                " not supported (only suite 0/1 without compression)");
      return;
    }
    if (!enc && !auth) {
      plain.assign(c.payload.begin(), c.payload.end());
      apdu_from_plain(depth);
      return;
    }
    if (enc && !cipher) {
      error(error_kind::no_key, "encrypted, no key configured (system title " +
                                    describe_system_title(c.system_title) + ")");
      return;
    }
    const auto iv = make_iv(c.system_title, c.invocation_counter);
    set_size(plain, c.payload.size());
    if (!enc) {
      // Authenticated only: GMAC over SC || AK || plaintext.
      if (opts.auth_key && cipher) {
        set_aad(sc);
        aad.insert(aad.end(), c.payload.begin(), c.payload.end());
        if (!cipher->decrypt_verify(iv, aad, {}, c.auth_tag, nullptr)) {
          error(error_kind::auth_failed, "authentication tag mismatch (wrong auth_key or "
                                         "corrupted message)");
          return;
        }
      }
      plain.assign(c.payload.begin(), c.payload.end());
      apdu_from_plain(depth);
      return;
    }
    if (auth && opts.auth_key) {
      set_aad(sc);
      if (!cipher->decrypt_verify(iv, aad, c.payload, c.auth_tag, plain.data())) {
        // Tell a wrong encryption key from a wrong auth key / tampered message.
        if (cipher->decrypt_ctr(iv, c.payload, plain.data()) && plausible_plaintext(plain))
          error(error_kind::auth_failed, "authentication tag mismatch (wrong auth_key or "
                                         "corrupted message)");
        else
          error(error_kind::wrong_key, "wrong key: decryption gave no DLMS APDU (system title " +
                                           describe_system_title(c.system_title) + ")");
        return;
      }
    } else if (!cipher->decrypt_ctr(iv, c.payload, plain.data())) {
      error(error_kind::malformed_data, "AES-CTR decryption failed");
      return;
    }
    if (!plausible_plaintext(plain)) {
      error(error_kind::wrong_key, "wrong key: decryption gave no DLMS APDU (system title " +
                                       describe_system_title(c.system_title) + ")");
      return;
    }
    apdu_from_plain(depth);
  }

  /// Sets `aad` to SC || AK, the start of every GCM AAD (`opts.auth_key` is set).
  void set_aad(uint8_t sc) {
    set_size(aad, 1 + opts.auth_key->size());
    aad[0] = sc;
    std::memcpy(aad.data() + 1, opts.auth_key->data(), opts.auth_key->size());
  }

  void apdu_from_plain(int depth) {
    if (plain.empty()) {
      error(error_kind::truncated, "ciphered APDU without content");
      return;
    }
    if (plain[0] != apdu_data_notification) {
      apdu(plain, depth + 1);
      return;
    }
    // Concatenated notifications are not expected inside a ciphered APDU; handle the first.
    (void)notification(plain);
  }

  // ---------------------------------------------------------------- notification

  struct item {
    obis_code obis;
    uint16_t class_id = 0; // 0 = unknown (shapes B, C, D)
    uint32_t value = 0;    // node index
    bool has_su = false;
    int scaler = 0;
    uint8_t unit = 255;
    const field_spec* spec = nullptr; // shape D
  };
  std::vector<item> items;

  /// A record being built from register items, and what the items gave so far.
  struct emit_state {
    record r;
    uint64_t seen = 0; // bit per register-map entry already emitted
    std::string id;
    /// The id when it is not in `id` (a replayed layout's).
    const std::string* id_ref = nullptr;
    std::optional<cosem_datetime> clock;
  };

  // ---------------------------------------------------------------- layout replay

  /// A notification body that `flat_body_fast` decoded, kept so that the next body with the same
  /// layout is decoded without walking it: a meter pushes the same objects every time, only the
  /// register values and date-times change. The next body is compared with `bytes` wherever
  /// `fixed` is set - everything but the payloads of numeric register values and of the clock /
  /// bare date-time - and then only those values are read. Every decision of the walk that
  /// depends on another byte (shape, OBIS codes, types, lengths, scaler-units, ids, duplicates)
  /// was made on bytes the comparison fixes; those that depend on a value (a finite number, a
  /// valid date-time) are checked again, and any difference falls back to the walk. The record is
  /// the walk's, field for field.
  struct body_layout {
    /// One field: where its value's A-XDR element starts and how it is scaled.
    struct value_step {
      uint32_t at = 0; // offset of the element's tag in the body
      uint8_t tag = 0; // the element's type tag (one of the fixed bytes)
      // An integer of 1, 2 or 4 bytes with 4 bytes to read in the body: its value is the top
      // bytes of a big-endian 32-bit load, shifted down by `shift` (sign-extending if signed).
      bool direct = false;
      bool is_signed = false;
      uint8_t shift = 0;
      scale_step scale; // the scaler-unit's or the map factor's; none: * 1
      field_text key;
      field_text unit;
      field_text obis;
    };
    bool valid = false;
    std::vector<uint8_t> bytes;     // the body, from the first byte after the header to the end
    std::vector<uint8_t> fixed;     // 0xFF where the next body must have the same byte
    size_t end = 0;                 // where the body ended, relative to its first byte
    std::vector<value_step> values; // in the order the fields were emitted
    int32_t clock_at = -1;          // offset of the clock's 12 date-time bytes; -1 = none
    int32_t bare_time_at = -1;      // offset of the bare date-time's 12 bytes; -1 = none
    std::string id;                 // the meter id the register items gave
    std::string bare_id;            // the bare id of a shape-B body
  };
  body_layout layout;    // replayed
  body_layout recording; // being recorded while `flat_body_fast` walks a body
  bool recording_on = false;
  bool recording_ok = false;
  size_t recording_base = 0; // offset of the recorded body in its APDU
  size_t value_at = 0;       // offset of the element `emit_item` gets, while recording

  void start_recording(std::span<const uint8_t> a, size_t base) {
    recording_on = true;
    recording_ok = base <= a.size() && a.size() - base <= UINT32_MAX;
    recording_base = base;
    recording.valid = false;
    if (!recording_ok)
      return;
    recording.bytes.assign(a.begin() + static_cast<ptrdiff_t>(base), a.end());
    recording.fixed.assign(a.size() - base, 0xFF);
    recording.values.clear();
    recording.clock_at = -1;
    recording.bare_time_at = -1;
  }

  /// Lets `n` bytes at `from` (in the APDU) differ in the next body.
  void vary(size_t from, size_t n) {
    const size_t size = recording.fixed.size();
    if (from < recording_base || from - recording_base > size ||
        n > size - (from - recording_base)) {
      recording_ok = false;
      return;
    }
    std::fill_n(recording.fixed.begin() + static_cast<ptrdiff_t>(from - recording_base), n, 0);
  }

  /// Lets the numeric value at `value_at` differ.
  void vary_value(const data_node& v) {
    vary(value_at + 1, static_cast<size_t>(fixed_size(v.type)));
  }

  /// Records the field just emitted from the numeric value `v` at `value_at`.
  void record_value(const item& it, const data_node& v, const field& f, int32_t factor) {
    auto& step = recording.values.emplace_back();
    step.at = static_cast<uint32_t>(value_at - recording_base);
    step.tag = static_cast<uint8_t>(v.type);
    using enum data_type;
    const bool is_signed = v.type == int8 || v.type == int16 || v.type == int32;
    const bool integer = is_signed || v.type == uint8 || v.type == uint16 || v.type == uint32 ||
                         v.type == enumeration;
    step.direct = integer && size_t{step.at} + 1 + 4 <= recording.bytes.size();
    step.is_signed = is_signed;
    step.shift = static_cast<uint8_t>(32 - 8 * (integer ? fixed_size(v.type) : 0));
    step.scale = it.has_su     ? scaler_step(it.scaler)
                 : factor >= 0 ? map_factors[static_cast<size_t>(factor)].step()
                               : scale_step{};
    step.key = f.key;
    step.unit = f.unit;
    step.obis = f.obis;
    // The replay copies these texts without checking their kind (`unowned_copy`).
    if (f.key.is_heap() || f.unit.is_heap() || f.obis.is_heap())
      recording_ok = false;
    vary_value(v);
  }

  /// Fills `out` with the 12 date-time bytes at `offset` (a recorded position inside the body);
  /// false when they are not all in `a`.
  [[nodiscard]] static bool datetime_at(std::span<const uint8_t> a, size_t offset,
                                        std::optional<cosem_datetime>& out) {
    if (offset > a.size() || a.size() - offset < 12)
      return false;
    read_datetime(a.data() + offset, out.emplace());
    return true;
  }

  /// Decodes the body at `base` by replaying `layout` when it matches; false otherwise (`s` then
  /// holds nothing to use).
  bool replay_layout(std::span<const uint8_t> a, size_t base, emit_state& s,
                     std::optional<cosem_datetime>& bare_time) {
    const size_t n = layout.bytes.size();
    if (!layout.valid || base > a.size() || a.size() - base != n)
      return false;
    const uint8_t* p = a.data() + base;
    if (!masked_equal(p, layout.bytes.data(), layout.fixed.data(), n))
      return false;
    // The same checks and arithmetic as `emit_item` on the same element. The element's tag is
    // one of the compared bytes and the body has the recorded length, so the value is where it
    // was; integers are read directly (the same doubles `numeric_value` gives), other types as
    // the walk reads them.
    s.r.fields.reserve(layout.values.size());
    for (const auto& step : layout.values) {
      const uint8_t* v = p + step.at + 1;
      double raw;
      if (step.direct) {
        const uint32_t w = load_be32(v);
        raw = step.is_signed ? static_cast<double>(static_cast<int32_t>(w) >> step.shift)
                             : static_cast<double>(w >> step.shift);
      } else {
        // Other numbers, and integers too close to the body's end for the 4-byte load.
        size_t pos = base + step.at;
        data_node node;
        if (!flat_element(a, pos, node))
          return false;
        raw = numeric_value(node);
        if (!std::isfinite(raw))
          return false;
      }
      const double value = step.scale.apply(raw);
      if (!std::isfinite(value))
        return false;
      add_prepared_field(s.r.fields, step.key, value, step.unit, step.obis);
    }
    // The recorded date-times were octet strings or date-times of 12 bytes (`datetime_of`), and
    // their tag and length are among the compared bytes.
    if (layout.clock_at >= 0 &&
        !datetime_at(a, base + static_cast<size_t>(layout.clock_at), s.clock))
      return false;
    if (layout.bare_time_at >= 0 &&
        (!datetime_at(a, base + static_cast<size_t>(layout.bare_time_at), bare_time) ||
         !utc_convertible(*bare_time)))
      return false;
    s.id_ref = &layout.id;
    return true;
  }

  /// Returns the bytes used by the notification (0 on error).
  size_t notification(std::span<const uint8_t> a) {
    data_notification dn;
    switch (parse_data_notification(a, dn)) {
    case apdu_status::ok:
      break;
    case apdu_status::truncated:
      error(error_kind::truncated, "data-notification truncated");
      return 0;
    default:
      error(error_kind::malformed_data, "data-notification header invalid");
      return 0;
    }
    size_t p = dn.body_offset;
    {
      emit_state s;
      std::optional<cosem_datetime> bare_time;
      if (opts.replay_layouts && replay_layout(a, p, s, bare_time)) {
        st.messages++;
        st.replayed++;
        finish(s, dn, bare_time, layout.bare_id);
        return p + layout.end;
      }
    }
    {
      emit_state s;
      if (opts.replay_layouts)
        start_recording(a, p);
      const bool fast = flat_body_fast(a, p, s);
      const bool recorded = recording_on && recording_ok;
      recording_on = false;
      if (fast) {
        if (recorded) {
          recording.id = s.id;
          recording.bare_id = fast_bare_id;
          recording.end = p - dn.body_offset;
          recording.valid = true;
          std::swap(layout, recording);
        }
        st.messages++;
        finish(s, dn, fast_bare_time, fast_bare_id);
        return p;
      }
    }
    nodes.clear();
    p = dn.body_offset;
    switch (parse_axdr(a, p, nodes)) {
    case axdr_status::ok:
      break;
    case axdr_status::truncated:
      error(error_kind::truncated, "data-notification body truncated");
      return 0;
    default:
      error(error_kind::malformed_data, "data-notification body is not valid A-XDR");
      return 0;
    }
    st.messages++;
    build(a, dn);
    return p;
  }

  /// A push-object definition read by `flat_body_fast`.
  struct push_def {
    obis_code obis;
    uint16_t class_id = 0;
    int8_t attribute = 0;
  };
  std::vector<push_def> push_defs;
  std::optional<cosem_datetime> fast_bare_time;
  std::string fast_bare_id;

  /// The common bodies in one pass, without the general node tree: a structure or array of
  /// 1-127 elements that is either
  /// - shape A: element 0 the push-object list, each definition `{long-unsigned class,
  ///   octet-string[6] OBIS, integer attribute, long-unsigned data index}`, or
  /// - shapes B / C without nested structures: OBIS codes, values and bare date-times / ids,
  /// whose other elements are scalars, strings and scaler-unit structures `{integer, enum}`.
  /// Emits the register items into `s` as `build` + `emit` would (while walking the values,
  /// unless a shape-A list pushes scaler-units as attribute 3, which may follow their values),
  /// sets `fast_bare_time` and `fast_bare_id`, sets `end` past the body and returns true.
  /// Returns false for any other body (truncated and malformed ones included, and bodies without
  /// register items): the caller then discards `s` and takes the general path, which decides
  /// and reports.
  bool flat_body_fast(std::span<const uint8_t> a, size_t& end, emit_state& s) {
    const size_t size = a.size();
    size_t pos = end;
    if (pos > size || size - pos < 3)
      return false;
    const uint8_t root = a[pos];
    if ((root != 0x01 && root != 0x02) || a[pos + 1] == 0 || a[pos + 1] >= 0x80)
      return false;
    const size_t n = a[pos + 1];
    pos += 2;
    fast_bare_time.reset();
    fast_bare_id.clear();
    if (a[pos] != 0x01) {
      if (!flat_pairs(a, pos, n, s))
        return false;
      end = pos;
      return true;
    }
    if (size - pos < 2 || a[pos + 1] == 0 || a[pos + 1] >= 0x80)
      return false;
    const size_t m = a[pos + 1];
    pos += 2;
    push_defs.clear();
    bool attribute3 = false;
    for (size_t k = 0; k < m; ++k) {
      // 02 04 | 12 class(2) | 09 06 OBIS(6) | 0F attribute | 12 index(2): 18 bytes.
      if (size - pos < 18)
        return false;
      const uint8_t* d = a.data() + pos;
      if (d[0] != 0x02 || d[1] != 0x04 || d[2] != 0x12 || d[5] != 0x09 || d[6] != 0x06 ||
          d[13] != 0x0F || d[15] != 0x12)
        return false;
      auto& def = push_defs.emplace_back();
      def.class_id = static_cast<uint16_t>((d[3] << 8) | d[4]);
      def.obis = obis_code{d[7], d[8], d[9], d[10], d[11], d[12]};
      def.attribute = static_cast<int8_t>(d[14]);
      attribute3 = attribute3 || (k > 0 && def.attribute == 3);
      pos += 18;
    }
    if (!attribute3) {
      // Every item is complete when its value is read: emit on the way.
      s.r.fields.reserve(m);
      item it;
      data_node v;
      for (size_t k = 1; k < n; ++k) {
        v = data_node{};
        const size_t v_at = pos;
        if (!flat_element(a, pos, v))
          return false;
        if (k < m && push_defs[k].attribute == 2) {
          it.class_id = push_defs[k].class_id;
          it.obis = push_defs[k].obis;
          it.value = static_cast<uint32_t>(k);
          value_at = v_at;
          emit_item(s, a, it, v);
        }
      }
      end = pos;
      return true;
    }
    // Scaler-units pushed as attribute 3 apply to items before and after them: collect first.
    recording_ok = false; // (not replayed)
    nodes.clear();
    nodes.resize(n);
    for (size_t k = 1; k < n; ++k)
      if (!flat_element(a, pos, nodes[k]))
        return false;
    items.clear();
    su_by_obis.clear();
    for (size_t k = 1; k < m && k < n; ++k) {
      const auto& def = push_defs[k];
      if (def.attribute == 2) {
        item& it = items.emplace_back();
        it.class_id = def.class_id;
        it.obis = def.obis;
        it.value = static_cast<uint32_t>(k);
      } else if (def.attribute == 3 && nodes[k].type == data_type::structure) {
        su_by_obis.emplace_back(def.obis, k);
      }
    }
    for (auto& it : items)
      for (const auto& [o, idx] : su_by_obis)
        if (o == it.obis) {
          it.has_su = true;
          it.scaler = static_cast<int>(nodes[idx].i);
          it.unit = static_cast<uint8_t>(nodes[idx].u);
        }
    su_by_obis.clear();
    s.r.fields.reserve(items.size());
    for (const auto& it : items)
      emit_item(s, a, it, nodes[it.value]);
    end = pos;
    return true;
  }

  /// Shape B of `flat_body_fast`: the `n` elements at `pos`, walked as `build` walks them (OBIS
  /// code, value, optional scaler-unit; other elements bare date-times or ids), each item
  /// emitted as soon as it is complete. False when an element is not flat or there is no item.
  bool flat_pairs(std::span<const uint8_t> a, size_t& pos, size_t n, emit_state& s) {
    // The element tests read the encoded bytes, not the nodes just written (a node field
    // stored narrow and read back wide stalls store forwarding). In a flat element, tag 09 is
    // followed by its one-byte length.
    const auto obis_at = [&a](size_t at) {
      return a[at] == 0x09 && a[at + 1] == 6 && looks_like_obis(a.subspan(at + 2, 6));
    };
    s.r.fields.reserve(n / 2);
    data_node cur;
    data_node next;
    bool any_item = false;
    item it;
    size_t k = 0;
    size_t cur_at = pos;
    if (!flat_element(a, pos, cur))
      return false;
    // `cur` is element k, decoded from `cur_at`.
    while (true) {
      if (k + 1 < n && obis_at(cur_at)) {
        const size_t next_at = pos;
        next = data_node{};
        if (!flat_element(a, pos, next))
          return false;
        if (a[next_at] != 0x02 && !obis_at(next_at)) { // `is_pair_value`
          any_item = true;
          it.obis = obis_code{a[cur_at + 2], a[cur_at + 3], a[cur_at + 4],
                              a[cur_at + 5], a[cur_at + 6], a[cur_at + 7]};
          it.value = static_cast<uint32_t>(k + 1);
          it.has_su = false;
          it.scaler = 0;
          it.unit = 255;
          k += 2;
          value_at = next_at;
          if (k >= n) {
            emit_item(s, a, it, next);
            return true;
          }
          cur_at = pos;
          cur = data_node{};
          if (!flat_element(a, pos, cur))
            return false;
          if (a[cur_at] == 0x02) { // scaler-unit
            it.has_su = true;
            it.scaler = static_cast<int8_t>(a[cur_at + 3]);
            it.unit = a[cur_at + 5];
            emit_item(s, a, it, next);
            if (++k >= n)
              return true;
            cur_at = pos;
            cur = data_node{};
            if (!flat_element(a, pos, cur))
              return false;
          } else {
            emit_item(s, a, it, next);
          }
          continue;
        }
        flat_bare(a, cur, k);
        cur = next;
        cur_at = next_at;
        ++k;
        continue;
      }
      flat_bare(a, cur, k);
      if (++k >= n)
        return any_item;
      cur_at = pos;
      cur = data_node{};
      if (!flat_element(a, pos, cur))
        return false;
    }
  }

  /// An element of a shape-B body that is no item: a bare date-time or id, as `build` takes it.
  void flat_bare(std::span<const uint8_t> a, const data_node& node, size_t k) {
    if (auto dt = datetime_of(a, node); dt && utc_convertible(*dt)) {
      if (!fast_bare_time) {
        fast_bare_time = dt;
        if (recording_on) {
          recording.bare_time_at = static_cast<int32_t>(node.offset - recording_base);
          vary(node.offset, 12);
        }
      }
    } else if (k > 0 && fast_bare_id.empty() && printable_text(a, node)) {
      fast_bare_id = id_string(a, node);
    }
  }

  /// Decodes one element of a flat body at `pos` into `node` (default-initialised): a scalar or
  /// string as `parse_axdr` would, a scaler-unit structure `02 02 0F s 16 u` as a structure node
  /// holding the scaler in `i` and the unit in `u`. False for anything else.
  /// Inlined so that the node's fields stay in registers (a node stored field by field and
  /// read back wider stalls store forwarding).
  [[gnu::always_inline]] static bool flat_element(std::span<const uint8_t> a, size_t& pos,
                                                  data_node& node) noexcept {
    const size_t size = a.size();
    if (pos >= size)
      return false;
    const uint8_t tag = a[pos];
    node.type = static_cast<data_type>(tag);
    const uint8_t* v = a.data() + pos + 1;
    const size_t left = size - pos - 1;
    // The usual value types inline, the rest through `parse_axdr_leaf`.
    switch (tag) {
    case 0x02: // scaler-unit 02 02 0F scaler 16 unit
      if (left < 5 || v[0] != 0x02 || v[1] != 0x0F || v[3] != 0x16)
        return false;
      node.count = 2;
      node.subtree = 3;
      node.i = static_cast<int8_t>(v[2]);
      node.u = v[4];
      pos += 6;
      return true;
    case 0x06: // double-long-unsigned
      if (left < 4)
        return false;
      node.u = load_be32(v);
      pos += 5;
      return true;
    case 0x05: // double-long
      if (left < 4)
        return false;
      node.i = static_cast<int32_t>(load_be32(v));
      pos += 5;
      return true;
    case 0x12: // long-unsigned
      if (left < 2)
        return false;
      node.u = static_cast<uint16_t>((v[0] << 8) | v[1]);
      pos += 3;
      return true;
    case 0x10: // long
      if (left < 2)
        return false;
      node.i = static_cast<int16_t>((v[0] << 8) | v[1]);
      pos += 3;
      return true;
    case 0x11: // unsigned
    case 0x16: // enum
      if (left < 1)
        return false;
      node.u = v[0];
      pos += 2;
      return true;
    case 0x09: // octet-string
    case 0x0A: // visible-string
      if (left < 1 || v[0] >= 0x80 || left - 1 < v[0])
        return false;
      node.offset = static_cast<uint32_t>(pos + 2);
      node.count = v[0];
      pos += 2 + v[0];
      return true;
    default:
      break;
    }
    ++pos;
    axdr_status status = axdr_status::ok;
    return parse_axdr_leaf(a, pos, node, status) && status == axdr_status::ok;
  }

  [[nodiscard]] std::optional<cosem_datetime> datetime_of(std::span<const uint8_t> a,
                                                          const data_node& n) const {
    if ((n.type == data_type::octet_string || n.type == data_type::date_time) && n.count == 12)
      return parse_datetime(node_bytes(a, n));
    return std::nullopt;
  }

  /// The id string of a value: printable strings as text, numbers in decimal, other bytes in hex;
  /// empty for empty or all-zero octet strings.
  [[nodiscard]] static std::string id_string(std::span<const uint8_t> a, const data_node& n) {
    if (is_string(n)) {
      const auto b = node_bytes(a, n);
      if (std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; }))
        return {};
      if (std::all_of(b.begin(), b.end(), [](uint8_t x) { return x >= 0x20 && x < 0x7F; }))
        return std::string(b.begin(), b.end());
      return hex_string(b);
    }
    if (n.type == data_type::int8 || n.type == data_type::int16 || n.type == data_type::int32 ||
        n.type == data_type::int64)
      return std::to_string(n.i);
    if (is_numeric(n) && n.type != data_type::float32 && n.type != data_type::float64)
      return std::to_string(n.u);
    return {};
  }

  [[nodiscard]] static bool printable_text(std::span<const uint8_t> a, const data_node& n) {
    if (!is_string(n) || n.count < 4)
      return false;
    const auto b = node_bytes(a, n);
    return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x >= 0x20 && x < 0x7F; });
  }

  [[nodiscard]] double factor_for(const register_info& r) const noexcept {
    for (const auto& o : prof->overrides)
      if (o.c == r.c && o.d == r.d && o.e == r.e)
        return o.factor;
    return r.factor;
  }

  /// Whether a B-shape element at `i` is a value for the preceding OBIS code.
  [[nodiscard]] bool is_pair_value(std::span<const uint8_t> a, size_t i) const {
    const auto& n = nodes[i];
    if (n.type == data_type::structure || n.type == data_type::array ||
        n.type == data_type::compact_array)
      return false;
    if (n.type == data_type::octet_string && n.count == 6 && looks_like_obis(node_bytes(a, n)))
      return false;
    return true;
  }

  void build(std::span<const uint8_t> a, const data_notification& dn) {
    const auto& root = nodes[0];
    if (root.type != data_type::structure && root.type != data_type::array) {
      error(error_kind::unknown_shape,
            std::string("notification body is ") + type_name(root.type) + ", not a structure");
      return;
    }
    // Children of the root.
    child_idx.clear();
    for (size_t i = 1, k = 0; k < root.count && i < nodes.size(); ++k) {
      child_idx.push_back(static_cast<uint32_t>(i));
      i += nodes[i].subtree;
    }
    items.clear();
    std::optional<cosem_datetime> bare_time;
    std::string bare_id;
    bool shape_a = false;
    // Shape A: element 0 is the push-object list {class, OBIS, attribute, data index}.
    if (!child_idx.empty()) {
      const size_t l = child_idx[0];
      if (nodes[l].type == data_type::array && nodes[l].count > 0) {
        shape_a = true;
        std::vector<uint32_t>& defs = def_idx;
        defs.clear();
        for (size_t i = l + 1, k = 0; k < nodes[l].count; ++k) {
          const auto& d = nodes[i];
          if (d.type != data_type::structure || d.count != 4 || i + 3 >= nodes.size() ||
              nodes[i + 1].type != data_type::uint16 ||
              nodes[i + 2].type != data_type::octet_string || nodes[i + 2].count != 6 ||
              nodes[i + 3].type != data_type::int8) {
            shape_a = false;
            break;
          }
          defs.push_back(static_cast<uint32_t>(i));
          i += d.subtree;
        }
        if (shape_a) {
          for (size_t k = 1; k < defs.size() && k < child_idx.size(); ++k) {
            const size_t d = defs[k];
            const auto obis = obis_code::from_bytes(node_bytes(a, nodes[d + 2]));
            const auto attr = nodes[d + 3].i;
            const uint32_t value = child_idx[k];
            if (attr == 2) {
              item& it = items.emplace_back();
              it.class_id = static_cast<uint16_t>(nodes[d + 1].u);
              it.obis = obis;
              it.value = value;
            } else if (attr == 3 && is_scaler_unit(nodes, value)) {
              // Scaler-unit pushed as attribute 3: remember it for the value of the same object.
              su_by_obis.emplace_back(obis, value);
            }
          }
        }
      }
    }
    if (shape_a) {
      for (auto& it : items)
        for (const auto& [o, idx] : su_by_obis)
          if (o == it.obis) {
            it.has_su = true;
            it.scaler = static_cast<int>(nodes[idx + 1].i);
            it.unit = static_cast<uint8_t>(nodes[idx + 2].u);
          }
      su_by_obis.clear();
    } else {
      // Shapes B and C in one walk.
      for (size_t k = 0; k < child_idx.size(); ++k) {
        const size_t i = child_idx[k];
        const auto& n = nodes[i];
        if (n.type == data_type::structure && n.count >= 2 &&
            nodes[i + 1].type == data_type::octet_string && nodes[i + 1].count == 6) {
          item& it = items.emplace_back();
          it.obis = obis_code::from_bytes(node_bytes(a, nodes[i + 1]));
          it.value = static_cast<uint32_t>(i + 2);
          if (n.count >= 3) {
            const size_t s = i + 2 + nodes[i + 2].subtree;
            if (s < nodes.size() && is_scaler_unit(nodes, s)) {
              it.has_su = true;
              it.scaler = static_cast<int>(nodes[s + 1].i);
              it.unit = static_cast<uint8_t>(nodes[s + 2].u);
            }
          }
          continue;
        }
        if (n.type == data_type::octet_string && n.count == 6 &&
            looks_like_obis(node_bytes(a, n)) && k + 1 < child_idx.size() &&
            is_pair_value(a, child_idx[k + 1])) {
          item& it = items.emplace_back();
          it.obis = obis_code::from_bytes(node_bytes(a, n));
          it.value = child_idx[k + 1];
          ++k;
          if (k + 1 < child_idx.size() && is_scaler_unit(nodes, child_idx[k + 1])) {
            const size_t s = child_idx[k + 1];
            it.has_su = true;
            it.scaler = static_cast<int>(nodes[s + 1].i);
            it.unit = static_cast<uint8_t>(nodes[s + 2].u);
            ++k;
          }
          continue;
        }
        // Untagged element: a bare date-time or a bare id string.
        if (auto dt = datetime_of(a, n); dt && utc_convertible(*dt)) {
          if (!bare_time)
            bare_time = dt;
        } else if (k > 0 && bare_id.empty() && printable_text(a, n)) {
          bare_id = id_string(a, n);
        }
      }
      if (items.empty()) {
        // Shape D: values only, mapped by a field list.
        const std::vector<field_spec>* specs = nullptr;
        if (!user_fields.empty())
          specs = &user_fields;
        else
          for (const auto& l : profile_fields)
            if (l.size() == child_idx.size())
              specs = &l;
        if (specs == nullptr) {
          error(error_kind::unknown_shape,
                "value-only payload with " + std::to_string(child_idx.size()) +
                    " values and no matching field list (set `fields` or a profile that has one)");
          return;
        }
        bare_time.reset();
        bare_id.clear();
        for (size_t k = 0; k < specs->size() && k < child_idx.size(); ++k) {
          item& it = items.emplace_back();
          it.spec = &(*specs)[k];
          it.obis = it.spec->obis;
          it.value = child_idx[k];
          if (it.spec->scaler) {
            it.has_su = true;
            it.scaler = *it.spec->scaler;
          }
        }
      }
    }
    emit(a, dn, bare_time, bare_id);
  }

  std::vector<uint32_t> child_idx;
  std::vector<uint32_t> def_idx;
  std::vector<std::pair<obis_code, size_t>> su_by_obis;

  /// Emits the items of the general path.
  void emit(std::span<const uint8_t> a, const data_notification& dn,
            const std::optional<cosem_datetime>& bare_time, const std::string& bare_id) {
    emit_state s;
    s.r.fields.reserve(items.size());
    for (const auto& it : items)
      emit_item(s, a, it, nodes[it.value]);
    finish(s, dn, bare_time, bare_id);
  }

  /// Adds one register item with its value `v` (a node of `a`): a field, the meter id or the
  /// clock.
  void emit_item(emit_state& s, std::span<const uint8_t> a, const item& it, const data_node& v) {
    if (it.spec != nullptr) {
      if (it.spec->what == field_spec::kind::skip)
        return;
      if (it.spec->what == field_spec::kind::meter_id) {
        if (s.id.empty())
          s.id = id_string(a, v);
        return;
      }
      if (it.spec->what == field_spec::kind::timestamp) {
        if (!s.clock)
          s.clock = datetime_of(a, v);
        return;
      }
    } else {
      if (is_push_setup(it.obis))
        return;
      if (is_clock_obis(it.obis)) {
        if (!s.clock) {
          s.clock = datetime_of(a, v);
          if (recording_on && s.clock) {
            recording.clock_at = static_cast<int32_t>(v.offset - recording_base);
            vary(v.offset, 12);
          }
        }
        return;
      }
      if (is_id_obis(it.obis)) {
        if (s.id.empty() && (it.class_id == 0 || it.class_id == 1 || it.class_id == 3))
          s.id = id_string(a, v);
        return;
      }
      if (it.class_id != 0 && it.class_id != 3 && it.class_id != 4)
        return;
    }
    if (!is_numeric(v))
      return;
    const double raw = numeric_value(v);
    if (!std::isfinite(raw))
      return; // NaN / infinity from a float register: no usable value
    if (const auto* reg = find_register(it.obis.c, it.obis.d, it.obis.e)) {
      const auto index = static_cast<size_t>(reg - map_base);
      const auto bit = uint64_t{1} << index;
      if (s.seen & bit) {
        if (recording_on)
          vary_value(v); // ignored whatever it holds
        return;          // duplicate C.D.E: first wins (smartmeter-datacollector)
      }
      s.seen |= bit;
      const double value = it.has_su ? apply_scaler(raw, it.scaler) : map_factors[index].apply(raw);
      if (!std::isfinite(value))
        return;
      // Identifier, unit and the usual OBIS text are string literals of the register map.
      if (it.obis.a == 1 && it.obis.b == 0 && it.obis.f == 255) {
        add_field(s.r.fields, static_text(reg->identifier), value, static_text(reg->unit),
                  static_text(reg->obis_text));
      } else {
        std::array<char, obis_text_capacity> obis;
        const std::string_view obis_text(obis.data(), it.obis.format(obis));
        add_field(s.r.fields, static_text(reg->identifier), value, static_text(reg->unit),
                  copied_text(obis_text));
      }
      if (recording_on)
        record_value(it, v, s.r.fields.back(), static_cast<int32_t>(index));
    } else {
      std::array<char, obis_text_capacity> obis;
      const std::string_view name(obis.data(), it.obis.format(obis));
      if (s.r.find_field(name) != nullptr) {
        if (recording_on)
          vary_value(v); // ignored whatever it holds
        return;
      }
      const double value = it.has_su ? apply_scaler(raw, it.scaler) : raw;
      if (!std::isfinite(value))
        return;
      // The OBIS text fits in place; unit names are string literals.
      const auto unit = it.has_su ? unit_name(it.unit) : std::string_view{};
      add_field(s.r.fields, copied_text(name), value, static_text(unit), copied_text(name));
      if (recording_on)
        record_value(it, v, s.r.fields.back(), -1);
    }
  }

  /// Publishes the record of a message whose items were all emitted (or reports no_values).
  void finish(emit_state& s, const data_notification& dn,
              const std::optional<cosem_datetime>& bare_time, const std::string& bare_id) {
    s.r.name = "smartmeter";
    const std::string& item_id = s.id_ref != nullptr ? *s.id_ref : s.id;
    const std::string& id = !item_id.empty() ? item_id : bare_id;
    if (!id.empty() && cached_id != id)
      cached_id = id;
    const std::string& meter = !cached_id.empty()
                                   ? cached_id
                                   : (!opts.fallback_id.empty() ? opts.fallback_id : unknown_id);
    if (s.r.fields.empty()) {
      error(error_kind::no_values, "message from meter '" + meter + "' carried no register values");
      return;
    }
    if (meter_tag != meter)
      meter_tag = field_text(meter);
    s.r.tags.reserve(2);
    s.r.tags.emplace_back(field_text::borrowed("meter"), meter_tag);
    s.r.tags.emplace_back(field_text::borrowed("profile"), profile_tag);
    s.r.time_ns = now;
    if (!opts.system_time) {
      std::optional<int64_t> t;
      if (s.clock)
        t = to_utc_ns(*s.clock, tz, zone_cache);
      if (!t && dn.time)
        t = to_utc_ns(*dn.time, tz, zone_cache);
      if (!t && bare_time)
        t = to_utc_ns(*bare_time, tz, zone_cache);
      if (t)
        s.r.time_ns = *t;
    }
    st.records++;
    out->records.push_back(std::move(s.r));
  }

  const std::string unknown_id = "unknown";

  void feed(std::span<const uint8_t> bytes, int64_t t, decode_result& result) {
    out = &result;
    now = t;
    st.bytes += bytes.size();
    // With nothing kept (then `pos` is 0), the caller's bytes are decoded where they are and only
    // what is left (an incomplete frame) is copied.
    bool in_place = buf.empty();
    if (pending_flag) {
      // The closing flag the last feed ended with. Followed by a flag, it is flag fill that the
      // run would step over (`after_frame` cleared); otherwise it may open the next frame.
      pending_flag = false;
      if (!bytes.empty() && bytes[0] == hdlc_flag) {
        after_frame = false;
      } else {
        buf.assign(1, hdlc_flag);
        in_place = false;
      }
    }
    if (!in_place) {
      // Compact before appending.
      if (pos > 0 && (pos >= buf.size() || pos > 4096)) {
        buf.erase(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(std::min(pos, buf.size())));
        pos = 0;
        link_wait_pos = SIZE_MAX;
      }
      buf.insert(buf.end(), bytes.begin(), bytes.end());
    }
    data = in_place ? bytes : std::span<const uint8_t>(buf);
    run();
    if (pos >= data.size()) {
      buf.clear();
      pos = 0;
      link_wait_pos = SIZE_MAX;
    } else if (data.size() - pos == 1 && data[pos] == hdlc_flag && after_frame && !link_rec_on &&
               link_wait_pos == SIZE_MAX) {
      // Only the closing flag of a complete frame is left (the end of every HDLC message): keep
      // it as a state, so that the next feed can be decoded in place.
      pending_flag = true;
      buf.clear();
      pos = 0;
    } else if (in_place) {
      buf.assign(data.begin() + static_cast<ptrdiff_t>(pos), data.end());
      link_wait_pos = link_wait_pos == pos ? 0 : SIZE_MAX;
      pos = 0;
    }
    data = {};
    out = nullptr;
  }

  void reset() noexcept {
    link_rec_abort();
    link_wait_pos = SIZE_MAX;
    buf.clear();
    pos = 0;
    after_frame = false;
    pending_flag = false;
    resyncing = false;
    garbage_run = 0;
    seg_state = seg_status::idle;
    seg_buf.clear();
    mbus_active = false;
    gbt = gbt_state::idle;
  }
};

decoder::decoder(options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}
decoder::~decoder() = default;
decoder::decoder(decoder&&) noexcept = default;
decoder& decoder::operator=(decoder&&) noexcept = default;

decode_result decoder::feed(std::span<const uint8_t> bytes, int64_t receive_time_ns) {
  decode_result r;
  impl_->feed(bytes, receive_time_ns, r);
  return r;
}

void decoder::feed(std::span<const uint8_t> bytes, int64_t receive_time_ns, decode_result& out) {
  impl_->feed(bytes, receive_time_ns, out);
}

void decoder::reset() noexcept {
  impl_->reset();
}

const decoder_stats& decoder::stats() const noexcept {
  return impl_->st;
}

const options& decoder::config() const noexcept {
  return impl_->opts;
}

} // namespace wattline::dlms
