// libFuzzer entry point for the DLMS push decoder. Also compiled into dlms_test (g++), which
// replays it over the frames.json corpus and bounded seeded mutations.
//
// Input layout: byte 0 selects the configuration (bits 0-1 transport, bits 2-4 key set, bits 5-7
// profile), byte 1 seeds the chunking and the changes of the second pass, the rest is the byte
// stream, fed twice (the second time with a few bytes changed). Checked invariants: nothing
// throws, every record is well formed, feeding the stream in chunks gives exactly the records and
// error kinds of feeding it whole, and so does a decoder that replays no remembered layout or
// frames - fed whole, and fed in chunks with a receive time each (same records, errors and
// times).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "actors/dlms/decoder.hpp"

namespace {

using namespace wattline::dlms;

struct key_set {
  std::string_view key;
  std::string_view auth_key;
};

// Keys of the encrypted frames in tests/data/dlms/frames.json (all published test keys).
constexpr key_set key_sets[8] = {
    {"", ""},
    {"101112131415161718191A1B1C1D1E1F", ""},                                 // L+G E570
    {"5C316162209EBB790B52EB0E7FC5B11C", "92705C5C97286064EABAE38D190F87A4"}, // L+G E450
    {"00112233445566778899AABBCCDDEEFF", "FFEEDDCCBBAA99887766554433221100"}, // Kamstrup
    {"36C66639E48A8CA4D6BC8B282A793BBB", ""},                                 // Netz NOE
    {"AABBCCDDEEFF00112233445566778899", ""},                                 // Wiener Netze
    {"F08660A6C19D2048556BF623AB0257E6", ""},                                 // L+G E450 (smdc)
    {"5FDE26FE7A1A36B6E1C0BA048FA9A023", "7DA42A44E00BD0AF5E1A911E3CCA64FD"}, // L+G E450 #2
};

constexpr std::string_view profile_names[8] = {"generic",  "lge450",      "lge570",
                                               "lge360",   "iskraam550",  "kamstrup_han",
                                               "kaifa_no", "wiener_netze"};

options make_options(uint8_t selector) {
  options o;
  o.framing = static_cast<transport>(selector & 0x03);
  const auto& ks = key_sets[(selector >> 2) & 0x07];
  (void)parse_key(ks.key, o.key);
  (void)parse_key(ks.auth_key, o.auth_key);
  o.profile = std::string(profile_names[(selector >> 5) & 0x07]);
  o.timezone = "Europe/Zurich";
  o.fallback_id = "fuzz";
  o.max_message_size = 4096;
  return o;
}

void check(bool ok) {
  if (!ok)
    std::abort();
}

void check_records(const decode_result& r) {
  for (const auto& rec : r.records) {
    check(rec.name == "smartmeter");
    check(rec.tag("meter") != nullptr && !rec.tag("meter")->empty());
    check(rec.tag("profile") != nullptr);
    check(!rec.fields.empty());
    for (const auto& f : rec.fields)
      check(!f.key.empty() && !f.obis.empty());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  const auto opts = make_options(data[0]);
  uint32_t seed = data[1] * 2654435761U + 1;
  const std::span<const uint8_t> stream(data + 2, size - 2);

  // The stream, then a copy with a few bytes changed (seeded): a decoder that remembers the
  // layout of the first messages meets changed values, dates and structure in the second.
  std::vector<uint8_t> changed(stream.begin(), stream.end());
  for (int k = 0; k < 4 && !changed.empty(); ++k) {
    seed = seed * 1103515245U + 12345U;
    changed[(seed >> 8) % changed.size()] ^= static_cast<uint8_t>(seed >> 24);
  }
  const std::span<const uint8_t> passes[2] = {stream, changed};

  decoder whole(opts);
  decode_result a;
  for (const auto& pass : passes)
    whole.feed(pass, 1, a);
  check_records(a);
  check(whole.stats().records == a.records.size());

  decoder chunked(opts);
  decode_result b;
  for (const auto& pass : passes) {
    size_t at = 0;
    while (at < pass.size()) {
      seed = seed * 1103515245U + 12345U;
      const size_t n = std::min<size_t>(pass.size() - at, 1 + (seed >> 16) % 64);
      chunked.feed(pass.subspan(at, n), 1, b);
      at += n;
    }
  }
  check(a.records == b.records);
  check(a.errors.size() == b.errors.size());
  for (size_t k = 0; k < a.errors.size(); ++k)
    check(a.errors[k].kind == b.errors[k].kind);

  // Replaying remembered layouts gives exactly what walking every body gives.
  auto walk_opts = opts;
  walk_opts.replay_layouts = false;
  decoder walker(walk_opts);
  decode_result c;
  for (const auto& pass : passes)
    walker.feed(pass, 1, c);
  check(walker.stats().replayed == 0);
  check(walker.stats().link_replayed == 0);
  check(a.records == c.records);
  check(a.errors.size() == c.errors.size());
  for (size_t k = 0; k < a.errors.size(); ++k)
    check(a.errors[k].kind == c.errors[k].kind && a.errors[k].message == c.errors[k].message);

  // Also in chunks, each with its own receive time: a replaying decoder that holds a message
  // until it is complete emits every record and error in the same feed as the walk.
  auto timed_opts = opts;
  timed_opts.system_time = true;
  auto timed_walk_opts = walk_opts;
  timed_walk_opts.system_time = true;
  decoder timed(timed_opts);
  decoder timed_walker(timed_walk_opts);
  decode_result d;
  decode_result e;
  int64_t t = 0;
  for (const auto& pass : passes) {
    size_t at = 0;
    while (at < pass.size()) {
      seed = seed * 1103515245U + 12345U;
      const size_t n = std::min<size_t>(pass.size() - at, 1 + (seed >> 16) % 64);
      timed.feed(pass.subspan(at, n), ++t, d);
      timed_walker.feed(pass.subspan(at, n), t, e);
      at += n;
    }
  }
  check(d.records == e.records);
  check(d.errors.size() == e.errors.size());
  for (size_t k = 0; k < d.errors.size(); ++k)
    check(d.errors[k].kind == e.errors[k].kind && d.errors[k].message == e.errors[k].message &&
          d.errors[k].time_ns == e.errors[k].time_ns);
  return 0;
}
