#include "actors/dlms/mbus.hpp"

namespace wattline::dlms {

mbus_status parse_mbus(std::span<const uint8_t> buf, mbus_frame& out) noexcept {
  if (buf.empty() || buf[0] != mbus_start)
    return mbus_status::not_a_frame;
  if (buf.size() < 4)
    return mbus_status::need_more;
  const size_t len = buf[1];
  if (buf[2] != buf[1] || buf[3] != mbus_start || len < 3)
    return mbus_status::not_a_frame;
  const size_t total = 4 + len + 2;
  if (buf.size() < total)
    return mbus_status::need_more;
  uint8_t sum = 0;
  for (size_t i = 4; i < 4 + len; ++i)
    sum = static_cast<uint8_t>(sum + buf[i]);
  if (buf[4 + len] != sum)
    return mbus_status::bad_checksum;
  if (buf[total - 1] != 0x16)
    return mbus_status::bad_stop;
  out.control = buf[4];
  out.address = buf[5];
  out.ci = buf[6];
  out.data = buf.subspan(7, len - 3);
  out.size = total;
  return mbus_status::ok;
}

std::vector<uint8_t> encode_mbus(uint8_t control, uint8_t address, uint8_t ci,
                                 std::span<const uint8_t> data) {
  const auto len = static_cast<uint8_t>(3 + data.size());
  std::vector<uint8_t> f;
  f.reserve(9 + data.size());
  for (uint8_t b : {mbus_start, len, len, mbus_start, control, address, ci})
    f.push_back(b);
  for (uint8_t b : data)
    f.push_back(b);
  uint8_t sum = 0;
  for (size_t i = 4; i < f.size(); ++i)
    sum = static_cast<uint8_t>(sum + f[i]);
  f.push_back(sum);
  f.push_back(0x16);
  return f;
}

} // namespace wattline::dlms
