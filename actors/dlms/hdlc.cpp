#include "actors/dlms/hdlc.hpp"

#include "actors/dlms/crc.hpp"

namespace wattline::dlms {

namespace {

/// Returns the length of the address starting at `pos` (1, 2 or 4 bytes), 0 when more bytes are
/// needed, or -1 when the address is invalid.
int address_length(std::span<const uint8_t> buf, size_t pos) noexcept {
  for (size_t i = 0; i < 4; ++i) {
    if (pos + i >= buf.size())
      return 0;
    if (buf[pos + i] & 0x01U) {
      const int n = static_cast<int>(i + 1);
      return n == 3 ? -1 : n;
    }
  }
  return -1;
}

} // namespace

hdlc_status parse_hdlc(std::span<const uint8_t> buf, hdlc_frame& out) noexcept {
  if (buf.empty() || buf[0] != hdlc_flag)
    return hdlc_status::not_a_frame;
  if (buf.size() < 3)
    return hdlc_status::need_more;
  if ((buf[1] & 0xF0U) != 0xA0U)
    return hdlc_status::not_a_frame;
  const size_t len = (static_cast<size_t>(buf[1] & 0x07U) << 8) | buf[2];
  // format (2) + dest (>= 1) + src (>= 1) + control (1) + FCS (2)
  if (len < 7)
    return hdlc_status::not_a_frame;
  const int dest_len = address_length(buf, 3);
  if (dest_len < 0)
    return hdlc_status::not_a_frame;
  if (dest_len == 0)
    return hdlc_status::need_more;
  const int src_len = address_length(buf, 3 + static_cast<size_t>(dest_len));
  if (src_len < 0)
    return hdlc_status::not_a_frame;
  if (src_len == 0)
    return hdlc_status::need_more;
  const size_t control_pos = 3 + static_cast<size_t>(dest_len) + static_cast<size_t>(src_len);
  const size_t header_end = control_pos + 1; // index after the control byte
  const size_t body_end = 1 + len;           // index of the closing flag
  if (header_end + 2 > body_end)
    return hdlc_status::not_a_frame;
  const bool has_info = header_end + 2 < body_end;
  size_t info_begin = header_end;
  if (has_info) {
    if (header_end + 4 > body_end)
      return hdlc_status::not_a_frame; // HCS and FCS must both fit
    if (buf.size() < header_end + 2)
      return hdlc_status::need_more;
    const uint16_t hcs = crc16_x25(buf.subspan(1, header_end - 1));
    if (buf[header_end] != (hcs & 0xFFU) || buf[header_end + 1] != (hcs >> 8))
      return hdlc_status::bad_hcs;
    info_begin = header_end + 2;
  }
  if (buf.size() < body_end + 1)
    return hdlc_status::need_more;
  if (!hdlc_fcs_ok(buf.first(body_end)))
    return hdlc_status::bad_fcs;
  if (buf[body_end] != hdlc_flag)
    return hdlc_status::bad_flag;
  out.segmented = (buf[1] & 0x08U) != 0;
  out.control = buf[control_pos];
  out.info = buf.subspan(info_begin, body_end - 2 - info_begin);
  out.size = body_end;
  return hdlc_status::ok;
}

bool hdlc_fcs_ok(std::span<const uint8_t> frame) noexcept {
  const size_t n = frame.size();
  if (n < 4)
    return false;
  const uint16_t fcs = crc16_x25(frame.subspan(1, n - 3));
  return frame[n - 2] == (fcs & 0xFFU) && frame[n - 1] == (fcs >> 8);
}

bool hdlc_carries_data(uint8_t control) noexcept {
  // I-frames have bit 0 clear; UI frames are 0x03 with the P/F bit 0x10 optional.
  return (control & 0x01U) == 0 || (control & 0xEFU) == 0x03U;
}

std::vector<uint8_t> encode_hdlc(std::span<const uint8_t> dest, std::span<const uint8_t> src,
                                 uint8_t control, bool segmented, std::span<const uint8_t> info) {
  std::vector<uint8_t> f;
  const size_t header = 2 + dest.size() + src.size() + 1;
  const size_t len = header + (info.empty() ? 0 : 2 + info.size()) + 2;
  f.reserve(len + 2);
  f.push_back(hdlc_flag);
  f.push_back(static_cast<uint8_t>(0xA0U | (segmented ? 0x08U : 0U) | ((len >> 8) & 0x07U)));
  f.push_back(static_cast<uint8_t>(len & 0xFFU));
  f.insert(f.end(), dest.begin(), dest.end());
  f.insert(f.end(), src.begin(), src.end());
  f.push_back(control);
  if (!info.empty()) {
    const uint16_t hcs = crc16_x25(std::span<const uint8_t>(f).subspan(1));
    f.push_back(static_cast<uint8_t>(hcs & 0xFFU));
    f.push_back(static_cast<uint8_t>(hcs >> 8));
    f.insert(f.end(), info.begin(), info.end());
  }
  const uint16_t fcs = crc16_x25(std::span<const uint8_t>(f).subspan(1));
  f.push_back(static_cast<uint8_t>(fcs & 0xFFU));
  f.push_back(static_cast<uint8_t>(fcs >> 8));
  f.push_back(hdlc_flag);
  return f;
}

} // namespace wattline::dlms
