// Decode throughput of the DLMS push decoder per message kind, beside OpenSSL's raw AES-128-GCM
// (decrypt + tag check) over the same byte count in the same binary.
//
//   ninja -C build bm_dlms && build/benchmarks/dlms/bm_dlms

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "actors/dlms/crc.hpp"
#include "actors/dlms/decoder.hpp"

namespace {

using namespace wattline::dlms;

const nlohmann::json& frames() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::string(WATTLINE_SOURCE_DIR) + "/tests/data/dlms/frames.json");
    if (!in)
      throw std::runtime_error("tests/data/dlms/frames.json not found");
    return nlohmann::json::parse(in);
  }();
  return j;
}

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

struct message_kind {
  size_t entry;
  const char* profile;
  bool with_key;
  bool with_auth_key;
};

// Entry numbers in tests/data/dlms/frames.json.
constexpr message_kind unencrypted_gbt{2, "lge450", false, false};      // E450, 4 GBT blocks
constexpr message_kind encrypted_gbt_tag{14, "lge450", true, true};     // E450, GBT + SC 0x30, tag
constexpr message_kind encrypted_gbt_notag{14, "lge450", true, false};  // same, tag not checked
constexpr message_kind p1_segmented{11, "iskraam550", false, false};    // AM550, 5 HDLC segments
constexpr message_kind kamstrup_single{13, "kamstrup_han", true, true}; // one frame, SC 0x30
// The other encrypted Landis+Gyr messages, configured as their sources give them.
constexpr message_kind encrypted_e450_flat{3, "lge450", true, false}; // E450, key only
constexpr message_kind encrypted_e450_2{15, "lge450", true, true};    // second E450, tag
constexpr message_kind encrypted_e570{7, "lge570", true, false};      // E570, key only

/// Decoder options of a message kind: its profile and keys, time zone Europe/Zurich.
options options_for(const message_kind& kind) {
  const auto& e = frames().at(kind.entry);
  options o;
  o.profile = kind.profile;
  o.timezone = "Europe/Zurich";
  if (kind.with_key)
    (void)parse_key(e.at("key").get<std::string>(), o.key);
  if (kind.with_auth_key)
    (void)parse_key(e.at("auth_key").get<std::string>(), o.auth_key);
  return o;
}

void bm_decode(benchmark::State& state, message_kind kind) {
  const auto& e = frames().at(kind.entry);
  const auto bytes = from_hex(e.at("hex").get<std::string>());
  decoder dec(options_for(kind));
  decode_result out;
  dec.feed(bytes, 0, out);
  if (out.records.size() != 1 || !out.errors.empty()) {
    state.SkipWithError("message does not decode to exactly one record");
    return;
  }
  int64_t t = 0;
  for (auto _ : state) {
    out.records.clear();
    out.errors.clear();
    dec.feed(bytes, ++t, out);
    benchmark::DoNotOptimize(out.records.data());
  }
  if (dec.stats().records != static_cast<uint64_t>(state.iterations()) + 1)
    state.SkipWithError("a message did not decode");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
  state.counters["msg_bytes"] = static_cast<double>(bytes.size());
}

/// What the record type costs on its own: the record `kind` decodes to, rebuilt (fields constructed
/// in place, as the decoder does, their texts copied in the representation the decoder gave them:
/// borrowed static keys and units, inline OBIS codes) and destroyed, once per iteration. Together
/// with `bm_raw_gcm` this is a floor for any decoder that emits `wattline::record`.
void bm_record_only(benchmark::State& state, message_kind kind) {
  const auto& e = frames().at(kind.entry);
  const auto bytes = from_hex(e.at("hex").get<std::string>());
  decoder dec(options_for(kind));
  const auto decoded = dec.feed(bytes, 0);
  if (decoded.records.size() != 1) {
    state.SkipWithError("message does not decode to exactly one record");
    return;
  }
  const auto& model = decoded.records[0];
  struct text {
    std::string_view view;
    operator std::string() const { return std::string(view); }
  };
  std::vector<wattline::record> out;
  for (auto _ : state) {
    out.clear();
    wattline::record r;
    r.name = text{model.name};
    r.fields.reserve(model.fields.size());
    for (const auto& f : model.fields)
      r.fields.emplace_back(f.key, f.value, f.unit, f.obis);
    r.tags.reserve(model.tags.size());
    for (const auto& [k, v] : model.tags)
      r.tags.emplace_back(k, v);
    r.time_ns = model.time_ns;
    out.push_back(std::move(r));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["fields"] = static_cast<double>(model.fields.size());
}

/// OpenSSL AES-128-GCM decrypt with a 12-byte tag check over `n` bytes, once per iteration (IV
/// set, 17-byte AAD, decrypt, tag check), key schedule prepared once: what one message costs.
void bm_raw_gcm(benchmark::State& state, size_t entry) {
  const size_t n = from_hex(frames().at(entry).at("hex").get<std::string>()).size();
  std::vector<uint8_t> key(16, 0x42), iv(12, 0x24), aad(17, 0x30), plain(n, 0x0F), cipher(n),
      out(n);
  uint8_t tag[16];
  EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
  int len = 0;
  EVP_EncryptInit_ex(enc, EVP_aes_128_gcm(), nullptr, key.data(), iv.data());
  EVP_EncryptUpdate(enc, nullptr, &len, aad.data(), static_cast<int>(aad.size()));
  EVP_EncryptUpdate(enc, cipher.data(), &len, plain.data(), static_cast<int>(n));
  EVP_EncryptFinal_ex(enc, tag, &len);
  EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG, 12, tag);
  EVP_CIPHER_CTX_free(enc);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key.data(), nullptr);
  for (auto _ : state) {
    EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data());
    EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size()));
    EVP_DecryptUpdate(ctx, out.data(), &len, cipher.data(), static_cast<int>(n));
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 12, tag);
    uint8_t fin[16];
    if (EVP_DecryptFinal_ex(ctx, fin, &len) <= 0)
      state.SkipWithError("tag mismatch");
    benchmark::DoNotOptimize(out.data());
  }
  EVP_CIPHER_CTX_free(ctx);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(n));
  state.counters["msg_bytes"] = static_cast<double>(n);
}

/// CRC-16/X.25 over `state.range(0)` bytes: an E450 push's FCS cover 137, 137 and 46 bytes.
void bm_crc16_x25(benchmark::State& state) {
  std::vector<uint8_t> bytes(static_cast<size_t>(state.range(0)));
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>(i * 37 + 11);
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes.data());
    benchmark::DoNotOptimize(crc16_x25(bytes));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

BENCHMARK(bm_crc16_x25)->Arg(5)->Arg(46)->Arg(137)->Arg(512);
BENCHMARK_CAPTURE(bm_decode, unencrypted_gbt_e450, unencrypted_gbt);
BENCHMARK_CAPTURE(bm_decode, encrypted_gbt_e450_tag_checked, encrypted_gbt_tag);
BENCHMARK_CAPTURE(bm_decode, encrypted_gbt_e450_no_tag_check, encrypted_gbt_notag);
BENCHMARK_CAPTURE(bm_decode, p1_segmented_am550, p1_segmented);
BENCHMARK_CAPTURE(bm_decode, kamstrup_single_frame_tag_checked, kamstrup_single);
BENCHMARK_CAPTURE(bm_decode, encrypted_e450_flat_key_only, encrypted_e450_flat);
BENCHMARK_CAPTURE(bm_decode, encrypted_e450_second_meter_tag_checked, encrypted_e450_2);
BENCHMARK_CAPTURE(bm_decode, encrypted_e570_key_only, encrypted_e570);
BENCHMARK_CAPTURE(bm_record_only, encrypted_gbt_e450, encrypted_gbt_tag);
BENCHMARK_CAPTURE(bm_record_only, kamstrup_single_frame, kamstrup_single);
BENCHMARK_CAPTURE(bm_raw_gcm, same_bytes_as_encrypted_gbt_e450, encrypted_gbt_tag.entry);
BENCHMARK_CAPTURE(bm_raw_gcm, same_bytes_as_kamstrup_single_frame, kamstrup_single.entry);
BENCHMARK_CAPTURE(bm_raw_gcm, same_bytes_as_unencrypted_gbt_e450, unencrypted_gbt.entry);
BENCHMARK_CAPTURE(bm_raw_gcm, same_bytes_as_encrypted_e570, encrypted_e570.entry);

} // namespace

BENCHMARK_MAIN();
