// InfluxDB sink core benchmarks.
//
// * BM_EncodeSmartMeterRecords: line-protocol encoding of smart-meter-like records (3 tags, 30
//   fields: 26 float, 3 integer, 1 string) into a reused buffer; records/s and bytes/s.
// * BM_BatcherAddRecords: the same through batcher::add (encode + batch bookkeeping).
// * BM_PostRawCurl / BM_PostWriter / BM_PostWriterGzip: posting the same pre-encoded
//   5000-line batches to a real influxd (started by the test harness on a free loopback port):
//   plain libcurl (one reused easy handle, status check only) vs influxdb::writer.
//
// Run: build-influx/benchmarks/influxdb/bm_influxdb --benchmark_repetitions=3
//      --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true

#include "sinks/influxdb/batch.hpp"
#include "sinks/influxdb/line_protocol.hpp"
#include "sinks/influxdb/writer.hpp"

#include "tests/influxdb/fake_http_server.hpp"
#include "tests/influxdb/influxd_server.hpp"

#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

using namespace wattline;
using namespace wattline::influxdb;

namespace {

constexpr int lines_per_batch = 5000;
constexpr int batch_count = 8; // distinct pre-encoded batches, cycled

record smart_meter_record(int i, int64_t time_ns) {
  record r;
  r.name = "smartmeter";
  r.tags = {
      {"meter", "1ESY11610" + std::to_string(i % 50)}, {"phase_mode", "3p"}, {"site", "home"}};
  static const char* names[] = {
      "p_in_w",   "p_out_w",  "q_in_var", "q_out_var", "e_in_wh", "e_out_wh", "u_l1_v",
      "u_l2_v",   "u_l3_v",   "i_l1_a",   "i_l2_a",    "i_l3_a",  "p_l1_w",   "p_l2_w",
      "p_l3_w",   "pf_l1",    "pf_l2",    "pf_l3",     "freq_hz", "e_t1_wh",  "e_t2_wh",
      "e_t1_out", "e_t2_out", "angle_l1", "angle_l2",  "angle_l3"};
  double base = 1000.0 + i * 0.37;
  for (int k = 0; k < 26; ++k)
    r.fields.push_back(field{names[k], base * (k + 1) / 7.0, {}, {}});
  r.fields.push_back(field{"status_word", int64_t{0x0012}, {}, {}});
  r.fields.push_back(field{"sequence", int64_t{i}, {}, {}});
  r.fields.push_back(field{"uptime_s", uint64_t{86'400u + static_cast<uint64_t>(i)}, {}, {}});
  r.fields.push_back(field{"firmware", std::string{"V1.2.3-rc"}, {}, {}});
  r.time_ns = time_ns;
  return r;
}

void BM_EncodeSmartMeterRecords(benchmark::State& state) {
  std::vector<record> records;
  for (int i = 0; i < 1000; ++i)
    records.push_back(smart_meter_record(i, 1'700'000'000'000'000'000 + i * 1'000'000'000LL));
  line_encoder enc;
  std::string out;
  out.reserve(1 << 20);
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    for (const auto& r : records)
      enc.encode(r, out);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records.size()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["bytes_per_line"] = static_cast<double>(out.size()) / records.size();
}
BENCHMARK(BM_EncodeSmartMeterRecords);

void BM_BatcherAddRecords(benchmark::State& state) {
  std::vector<record> records;
  for (int i = 0; i < 1000; ++i)
    records.push_back(smart_meter_record(i, 1'700'000'000'000'000'000 + i * 1'000'000'000LL));
  line_encoder enc;
  batcher bt{{.max_lines = 5000}};
  for (auto _ : state) {
    for (const auto& r : records)
      if (bt.add(enc, r))
        benchmark::DoNotOptimize(bt.take());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(records.size()));
}
BENCHMARK(BM_BatcherAddRecords);

/// The influxd and the pre-encoded batches shared by the posting benchmarks.
struct fixture {
  test::influxd_server server;
  std::vector<line_batch> batches;
  size_t bytes_per_batch = 0;

  fixture() {
    line_encoder enc;
    for (int b = 0; b < batch_count; ++b) {
      line_batch batch;
      for (int i = 0; i < lines_per_batch; ++i) {
        int seq = b * lines_per_batch + i;
        batch.append_record(enc, smart_meter_record(seq, 1'700'000'000'000'000'000 +
                                                             int64_t{seq} * 1'000'000'000LL));
      }
      bytes_per_batch = batch.bytes();
      batches.push_back(std::move(batch));
    }
    for (const char* db : {"bench_curl", "bench_writer", "bench_writer_gzip", "bench_paired"})
      server.create_database(db);
  }

  static fixture& get() {
    static auto f = std::make_unique<fixture>();
    return *f;
  }
};

size_t append_response(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/// The baseline: libcurl with one reused easy handle posting a body and checking for 204.
class raw_curl_poster {
public:
  explicit raw_curl_poster(const std::string& url) : url_(url) {
    c_ = curl_easy_init();
    headers_ = curl_slist_append(headers_, "Content-Type: text/plain; charset=utf-8");
    headers_ = curl_slist_append(headers_, "Expect:");
    curl_easy_setopt(c_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(c_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(c_, CURLOPT_WRITEFUNCTION, &append_response);
    curl_easy_setopt(c_, CURLOPT_WRITEDATA, &response_);
    curl_easy_setopt(c_, CURLOPT_NOSIGNAL, 1L);
  }
  ~raw_curl_poster() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(c_);
  }
  raw_curl_poster(const raw_curl_poster&) = delete;
  raw_curl_poster& operator=(const raw_curl_poster&) = delete;

  bool post(std::string_view body) {
    curl_easy_setopt(c_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    response_.clear();
    CURLcode rc = curl_easy_perform(c_);
    long status = 0;
    curl_easy_getinfo(c_, CURLINFO_RESPONSE_CODE, &status);
    error_ = rc != CURLE_OK ? curl_easy_strerror(rc)
                            : "HTTP " + std::to_string(status) + " " + response_;
    return rc == CURLE_OK && status == 204;
  }

  /// What went wrong in the last post.
  [[nodiscard]] const std::string& last_error() const { return error_; }

private:
  std::string url_;
  CURL* c_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string response_;
  std::string error_;
};

writer_options writer_for(const std::string& url, const std::string& db, bool gzip) {
  writer_options o;
  o.name = "bench";
  o.url = url;
  o.database = db;
  o.gzip = gzip;
  o.timeout = std::chrono::seconds(60);
  return o;
}

void BM_PostRawCurl(benchmark::State& state) {
  auto& f = fixture::get();
  raw_curl_poster curl{f.server.url() + "/write?db=bench_curl&precision=n"};
  size_t k = 0;
  for (auto _ : state) {
    if (!curl.post(f.batches[k++ % f.batches.size()].payload())) {
      state.SkipWithError("raw curl post failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * lines_per_batch);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(f.bytes_per_batch));
}
BENCHMARK(BM_PostRawCurl)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

void post_with_writer(benchmark::State& state, bool gzip) {
  auto& f = fixture::get();
  writer w{writer_for(f.server.url(), gzip ? "bench_writer_gzip" : "bench_writer", gzip)};
  size_t k = 0;
  line_batch b;
  for (auto _ : state) {
    state.PauseTiming();
    b = f.batches[k++ % f.batches.size()]; // write() empties the batch
    state.ResumeTiming();
    auto out = w.write(b);
    if (out.status != write_status::ok) {
      state.SkipWithError(out.message.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * lines_per_batch);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(f.bytes_per_batch));
}

void BM_PostWriter(benchmark::State& state) {
  post_with_writer(state, false);
}
BENCHMARK(BM_PostWriter)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

void BM_PostWriterGzip(benchmark::State& state) {
  post_with_writer(state, true);
}
BENCHMARK(BM_PostWriterGzip)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

/// Paired comparison: every iteration posts one batch with raw curl and the same batch with the
/// writer (order alternating), so both see the same server state and machine load. Reports the
/// writer's throughput as a percentage of raw curl's (`writer_pct_of_curl`).
/// With `control`, a second raw libcurl poster takes the writer's place: the spread of that
/// curl-vs-curl ratio is the noise floor of the comparison on the machine at hand.
void paired(benchmark::State& state, const std::string& base_url, const std::string& curl_db,
            const std::string& writer_db, bool control = false) {
  auto& f = fixture::get();
  raw_curl_poster curl{base_url + "/write?db=" + curl_db + "&precision=n"};
  raw_curl_poster curl2{base_url + "/write?db=" + writer_db + "&precision=n"};
  writer w{writer_for(base_url, writer_db, false)};
  using clk = std::chrono::steady_clock;
  clk::duration curl_total{}, writer_total{};
  std::vector<double> curl_times, writer_times, ratios;
  size_t k = 0;
  line_batch b;
  for (auto _ : state) {
    const auto& src = f.batches[k % f.batches.size()];
    b = src;
    clk::duration tc{}, tw{};
    std::string error;
    auto run_curl = [&] {
      auto t = clk::now();
      bool ok = curl.post(src.payload());
      tc = clk::now() - t;
      if (!ok)
        error = "raw curl: " + curl.last_error();
      return ok;
    };
    auto run_writer = [&] {
      auto t = clk::now();
      if (control) {
        bool ok = curl2.post(src.payload());
        tw = clk::now() - t;
        if (!ok)
          error = "raw curl 2: " + curl2.last_error();
        return ok;
      }
      auto out = w.write(b);
      tw = clk::now() - t;
      if (out.status != write_status::ok)
        error = "writer: " + out.message;
      return out.status == write_status::ok;
    };
    bool ok = (k % 2 == 0) ? (run_curl() && run_writer()) : (run_writer() && run_curl());
    ++k;
    if (!ok) {
      state.SkipWithError(error.c_str());
      break;
    }
    curl_total += tc;
    writer_total += tw;
    curl_times.push_back(std::chrono::duration<double, std::milli>(tc).count());
    writer_times.push_back(std::chrono::duration<double, std::milli>(tw).count());
    ratios.push_back(curl_times.back() / std::max(1e-9, writer_times.back()));
    state.SetIterationTime(std::chrono::duration<double>(tc + tw).count());
  }
  auto ms = [&](clk::duration d) {
    return std::chrono::duration<double, std::milli>(d).count() /
           static_cast<double>(std::max<int64_t>(1, state.iterations()));
  };
  state.counters["curl_ms"] = ms(curl_total);
  state.counters["writer_ms"] = ms(writer_total);
  state.counters["writer_pct_of_curl"] =
      100.0 * std::chrono::duration<double>(curl_total).count() /
      std::max(1e-12, std::chrono::duration<double>(writer_total).count());
  auto median = [](std::vector<double> v) {
    if (v.empty())
      return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto max = [](const std::vector<double>& v) {
    return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
  };
  state.counters["curl_median_ms"] = median(curl_times);
  state.counters["writer_median_ms"] = median(writer_times);
  state.counters["curl_max_ms"] = max(curl_times);
  state.counters["writer_max_ms"] = max(writer_times);
  // Median of the per-iteration ratios: robust against single slow server responses.
  state.counters["writer_pct_of_curl_median"] = 100.0 * median(ratios);
  state.SetItemsProcessed(state.iterations() * 2 * lines_per_batch);
}

void BM_PairedInfluxd(benchmark::State& state) {
  auto& f = fixture::get();
  // One database for both, so both posters meet the same shard state; the order alternates.
  paired(state, f.server.url(), "bench_paired", "bench_paired");
}
BENCHMARK(BM_PairedInfluxd)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(40);

/// Control: raw curl against raw curl under the same pairing (`writer_*` counters are the second
/// curl client).
void BM_PairedInfluxdControl(benchmark::State& state) {
  auto& f = fixture::get();
  paired(state, f.server.url(), "bench_paired", "bench_paired", true);
}
BENCHMARK(BM_PairedInfluxdControl)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(40);

/// Same pairing against a local server that answers 204 at once: the client-side cost alone.
void BM_PairedBlackhole(benchmark::State& state) {
  test::fake_http_server hole{[](const test::fake_request&) { return test::fake_response{}; },
                              false};
  paired(state, hole.url(), "x", "x");
}
BENCHMARK(BM_PairedBlackhole)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(400);

} // namespace

BENCHMARK_MAIN();
