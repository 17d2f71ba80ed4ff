#include "actors/dlms/encoder.hpp"

#include <bit>

#include "actors/dlms/hdlc.hpp"
#include "actors/dlms/mbus.hpp"

namespace wattline::dlms {

void write_ber_length(std::vector<uint8_t>& out, size_t length) {
  if (length < 0x80) {
    out.push_back(static_cast<uint8_t>(length));
  } else if (length < 0x100) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(length));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(length >> 8));
    out.push_back(static_cast<uint8_t>(length & 0xFF));
  }
}

void axdr_writer::be(uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i)
    out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

axdr_writer& axdr_writer::structure(size_t count) {
  out_.push_back(2);
  write_ber_length(out_, count);
  return *this;
}
axdr_writer& axdr_writer::array(size_t count) {
  out_.push_back(1);
  write_ber_length(out_, count);
  return *this;
}
axdr_writer& axdr_writer::null() {
  out_.push_back(0);
  return *this;
}
axdr_writer& axdr_writer::boolean(bool v) {
  out_.push_back(3);
  out_.push_back(v ? 1 : 0);
  return *this;
}
axdr_writer& axdr_writer::octet_string(std::span<const uint8_t> b) {
  out_.push_back(9);
  write_ber_length(out_, b.size());
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}
axdr_writer& axdr_writer::visible_string(std::string_view s) {
  out_.push_back(10);
  write_ber_length(out_, s.size());
  out_.insert(out_.end(), s.begin(), s.end());
  return *this;
}
axdr_writer& axdr_writer::int8(int8_t v) {
  out_.push_back(15);
  be(static_cast<uint8_t>(v), 1);
  return *this;
}
axdr_writer& axdr_writer::int16(int16_t v) {
  out_.push_back(16);
  be(static_cast<uint16_t>(v), 2);
  return *this;
}
axdr_writer& axdr_writer::int32(int32_t v) {
  out_.push_back(5);
  be(static_cast<uint32_t>(v), 4);
  return *this;
}
axdr_writer& axdr_writer::int64(int64_t v) {
  out_.push_back(20);
  be(static_cast<uint64_t>(v), 8);
  return *this;
}
axdr_writer& axdr_writer::uint8(uint8_t v) {
  out_.push_back(17);
  be(v, 1);
  return *this;
}
axdr_writer& axdr_writer::uint16(uint16_t v) {
  out_.push_back(18);
  be(v, 2);
  return *this;
}
axdr_writer& axdr_writer::uint32(uint32_t v) {
  out_.push_back(6);
  be(v, 4);
  return *this;
}
axdr_writer& axdr_writer::uint64(uint64_t v) {
  out_.push_back(21);
  be(v, 8);
  return *this;
}
axdr_writer& axdr_writer::enumeration(uint8_t v) {
  out_.push_back(22);
  be(v, 1);
  return *this;
}
axdr_writer& axdr_writer::float32(float v) {
  out_.push_back(23);
  be(std::bit_cast<uint32_t>(v), 4);
  return *this;
}
axdr_writer& axdr_writer::float64(double v) {
  out_.push_back(24);
  be(std::bit_cast<uint64_t>(v), 8);
  return *this;
}
axdr_writer& axdr_writer::date_time(const cosem_datetime& dt) {
  const auto b = encode_datetime(dt);
  return octet_string(b);
}
axdr_writer& axdr_writer::obis(const obis_code& o) {
  const uint8_t b[6] = {o.a, o.b, o.c, o.d, o.e, o.f};
  return octet_string(b);
}
axdr_writer& axdr_writer::scaler_unit(int8_t scaler, uint8_t unit) {
  structure(2);
  int8(scaler);
  return enumeration(unit);
}
axdr_writer& axdr_writer::raw(std::span<const uint8_t> b) {
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}

std::vector<uint8_t> encode_data_notification(uint32_t invoke_id,
                                              const std::optional<cosem_datetime>& time,
                                              std::span<const uint8_t> body) {
  std::vector<uint8_t> a{apdu_data_notification, static_cast<uint8_t>(invoke_id >> 24),
                         static_cast<uint8_t>(invoke_id >> 16),
                         static_cast<uint8_t>(invoke_id >> 8), static_cast<uint8_t>(invoke_id)};
  if (time) {
    a.push_back(0x0C);
    const auto b = encode_datetime(*time);
    a.insert(a.end(), b.begin(), b.end());
  } else {
    a.push_back(0x00);
  }
  a.insert(a.end(), body.begin(), body.end());
  return a;
}

std::vector<uint8_t> encode_ciphered(uint8_t tag, std::span<const uint8_t, 8> system_title,
                                     uint8_t sc, uint32_t invocation_counter,
                                     std::span<const uint8_t> plaintext, const aes_key& key,
                                     const std::optional<aes_key>& auth_key) {
  const bool enc = (sc & 0x20) != 0;
  const bool auth = (sc & 0x10) != 0;
  if (auth && !auth_key)
    return {};
  aes_gcm gcm(key);
  const auto iv = make_iv(system_title, invocation_counter);
  std::vector<uint8_t> payload(plaintext.size());
  std::vector<uint8_t> tag_bytes(auth ? 12 : 0);
  std::vector<uint8_t> aad;
  if (auth) {
    aad.push_back(sc);
    aad.insert(aad.end(), auth_key->begin(), auth_key->end());
  }
  if (enc) {
    // The ciphertext is the same with or without a tag; the tag needs the AAD.
    uint8_t dummy[16];
    if (!gcm.encrypt(iv, aad, plaintext, payload.data(),
                     auth ? std::span<uint8_t>(tag_bytes) : std::span<uint8_t>(dummy, 12)))
      return {};
  } else {
    payload.assign(plaintext.begin(), plaintext.end());
    if (auth) {
      aad.insert(aad.end(), plaintext.begin(), plaintext.end());
      if (!gcm.encrypt(iv, aad, {}, nullptr, tag_bytes))
        return {};
    }
  }
  std::vector<uint8_t> a{tag, 8};
  a.insert(a.end(), system_title.begin(), system_title.end());
  write_ber_length(a, 5 + payload.size() + tag_bytes.size());
  a.push_back(sc);
  a.push_back(static_cast<uint8_t>(invocation_counter >> 24));
  a.push_back(static_cast<uint8_t>(invocation_counter >> 16));
  a.push_back(static_cast<uint8_t>(invocation_counter >> 8));
  a.push_back(static_cast<uint8_t>(invocation_counter));
  a.insert(a.end(), payload.begin(), payload.end());
  a.insert(a.end(), tag_bytes.begin(), tag_bytes.end());
  return a;
}

std::vector<std::vector<uint8_t>> encode_gbt(std::span<const uint8_t> apdu, size_t block_size) {
  std::vector<std::vector<uint8_t>> blocks;
  if (block_size == 0)
    return blocks;
  uint16_t number = 1;
  for (size_t at = 0; at < apdu.size(); at += block_size, ++number) {
    const size_t n = std::min(block_size, apdu.size() - at);
    const bool last = at + n >= apdu.size();
    std::vector<uint8_t> b{apdu_general_block_transfer,
                           static_cast<uint8_t>(last ? 0xC0 : 0x40),
                           static_cast<uint8_t>(number >> 8),
                           static_cast<uint8_t>(number & 0xFF),
                           0,
                           0};
    write_ber_length(b, n);
    b.insert(b.end(), apdu.begin() + static_cast<ptrdiff_t>(at),
             apdu.begin() + static_cast<ptrdiff_t>(at + n));
    blocks.push_back(std::move(b));
  }
  return blocks;
}

std::vector<uint8_t> encode_hdlc_push(const std::vector<std::vector<uint8_t>>& parts) {
  static constexpr uint8_t dest[] = {0xCE, 0xFF};
  static constexpr uint8_t src[] = {0x03};
  std::vector<uint8_t> out;
  bool first = true;
  for (const auto& p : parts) {
    std::vector<uint8_t> info;
    if (first)
      info = {0xE6, 0xE7, 0x00};
    info.insert(info.end(), p.begin(), p.end());
    auto f = encode_hdlc(dest, src, 0x13, false, info);
    // Consecutive frames share no flag here: each frame has both flags, as the E450 sends them.
    out.insert(out.end(), f.begin(), f.end());
    first = false;
  }
  return out;
}

std::vector<uint8_t> encode_hdlc_segmented(std::span<const uint8_t> apdu, size_t segment_size) {
  static constexpr uint8_t dest[] = {0xCF};
  static constexpr uint8_t src[] = {0x02, 0x23};
  std::vector<uint8_t> info{0xE6, 0xE7, 0x00};
  info.insert(info.end(), apdu.begin(), apdu.end());
  std::vector<uint8_t> out;
  if (segment_size == 0)
    return out;
  for (size_t at = 0; at < info.size(); at += segment_size) {
    const size_t n = std::min(segment_size, info.size() - at);
    const bool last = at + n >= info.size();
    auto f = encode_hdlc(dest, src, last ? 0x13 : 0x03, !last,
                         std::span<const uint8_t>(info).subspan(at, n));
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

std::vector<uint8_t> encode_mbus_push(std::span<const uint8_t> apdu, size_t chunk) {
  std::vector<uint8_t> out;
  if (chunk == 0 || chunk > 250)
    return out;
  uint8_t seq = 0;
  for (size_t at = 0; at < apdu.size(); at += chunk, seq = static_cast<uint8_t>((seq + 1) & 0x0F)) {
    const size_t n = std::min(chunk, apdu.size() - at);
    const bool last = at + n >= apdu.size();
    std::vector<uint8_t> data{0x01, 0x67};
    data.insert(data.end(), apdu.begin() + static_cast<ptrdiff_t>(at),
                apdu.begin() + static_cast<ptrdiff_t>(at + n));
    auto f = encode_mbus(0x53, 0xFF, static_cast<uint8_t>(seq | (last ? 0x10 : 0x00)), data);
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

std::vector<uint8_t> encode_push_body(std::span<const push_entry> entries,
                                      std::span<const std::vector<uint8_t>> values) {
  axdr_writer w;
  w.structure(entries.size());
  w.array(entries.size());
  for (const auto& e : entries) {
    w.structure(4);
    w.uint16(e.class_id);
    w.obis(e.obis);
    w.int8(e.attribute);
    w.uint16(0);
  }
  for (size_t k = 1; k < entries.size(); ++k) {
    if (k < values.size() && !values[k].empty())
      w.raw(values[k]);
    else
      w.null();
  }
  return w.take();
}

} // namespace wattline::dlms
