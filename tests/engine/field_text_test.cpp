// wattline::field_text: inline / borrowed / heap representations at their boundaries, copies and
// moves of each kind, self-assignment, comparisons, hashing and printing; the record API on top.

#include "engine/record.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <unordered_set>
#include <utility>

namespace wattline {
namespace {

constexpr std::string_view longest_inline = "255-255:255.255.255*255"; // 23 characters
constexpr std::string_view first_heap = "REACTIVE_ENERGY_Q1_T1_xx";    // 24 characters
constexpr std::string_view static_key = "REACTIVE_ENERGY_P_T1";

/// Where the characters are, for identity checks (gtest would print a `const char*` as text).
const void* addr(std::string_view s) {
  return s.data();
}

enum class kind { inline_text, borrowed, heap };

kind kind_of(const field_text& t) {
  EXPECT_EQ(int{t.is_inline()} + int{t.is_borrowed()} + int{t.is_heap()}, 1);
  if (t.is_borrowed())
    return kind::borrowed;
  return t.is_heap() ? kind::heap : kind::inline_text;
}

TEST(field_text, is_24_bytes) {
  EXPECT_EQ(sizeof(field_text), 24u);
  EXPECT_EQ(field_text::inline_capacity, longest_inline.size());
}

TEST(field_text, default_is_empty_inline) {
  const field_text t;
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.view(), "");
  EXPECT_EQ(kind_of(t), kind::inline_text);
  EXPECT_EQ(t, "");
}

TEST(field_text, inline_up_to_capacity_heap_above) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string s(n, static_cast<char>('a' + n % 26));
    const field_text t(s);
    EXPECT_EQ(t.view(), s) << n;
    EXPECT_EQ(t.size(), n);
    EXPECT_EQ(t.empty(), n == 0);
    EXPECT_EQ(kind_of(t), n <= field_text::inline_capacity ? kind::inline_text : kind::heap) << n;
    if (n > 0) {
      EXPECT_NE(addr(t), addr(s));
    }
  }
  EXPECT_EQ(kind_of(field_text(longest_inline)), kind::inline_text);
  EXPECT_EQ(kind_of(field_text(first_heap)), kind::heap);
}

TEST(field_text, implicit_constructors_copy) {
  std::string s(first_heap);
  const field_text from_string = s;
  const field_text from_view = std::string_view(s);
  const field_text from_chars = s.c_str();
  s[0] = 'X'; // the copies do not see it
  for (const field_text* t : {&from_string, &from_view, &from_chars}) {
    EXPECT_EQ(t->view(), first_heap);
    EXPECT_EQ(kind_of(*t), kind::heap);
  }
  const field_text literal = "W";
  EXPECT_EQ(kind_of(literal), kind::inline_text);
  EXPECT_EQ(literal, "W");
  // Embedded NUL characters are kept.
  const field_text with_nul(std::string_view("a\0b", 3));
  EXPECT_EQ(with_nul.size(), 3u);
  EXPECT_EQ(with_nul.view(), std::string_view("a\0b", 3));
}

TEST(field_text, borrowed_refers_to_static_storage) {
  const auto t = field_text::borrowed(static_key);
  EXPECT_EQ(kind_of(t), kind::borrowed);
  EXPECT_EQ(addr(t), addr(static_key));
  EXPECT_EQ(t.size(), static_key.size());
  EXPECT_EQ(t, static_key);
  // Short and empty borrowed text stays borrowed.
  const auto s = field_text::borrowed("W");
  EXPECT_EQ(kind_of(s), kind::borrowed);
  EXPECT_EQ(s, "W");
  const auto e = field_text::borrowed({});
  EXPECT_EQ(kind_of(e), kind::borrowed);
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e, field_text());
}

TEST(field_text, copies_of_each_kind) {
  const field_text in(longest_inline);
  const field_text heap(first_heap);
  const auto bor = field_text::borrowed(static_key);

  const field_text in_copy(in); // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(kind_of(in_copy), kind::inline_text);
  EXPECT_EQ(in_copy, in);
  EXPECT_NE(addr(in_copy), addr(in));

  const field_text heap_copy(heap); // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(kind_of(heap_copy), kind::heap);
  EXPECT_EQ(heap_copy, heap);
  EXPECT_NE(addr(heap_copy), addr(heap)); // deep copy

  const field_text bor_copy(bor); // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(kind_of(bor_copy), kind::borrowed);
  EXPECT_EQ(addr(bor_copy), addr(static_key));

  // Copy assignment across every pair of kinds (the target's old contents are released).
  const field_text* all[] = {&in, &heap, &bor};
  for (const field_text* from : all)
    for (const field_text* to : all) {
      field_text target(*to);
      target = *from;
      EXPECT_EQ(target, *from);
      EXPECT_EQ(kind_of(target), kind_of(*from));
      if (from->is_borrowed()) {
        EXPECT_EQ(addr(target), addr(*from));
      } else {
        EXPECT_NE(addr(target), addr(*from));
      }
    }
}

TEST(field_text, moves_of_each_kind) {
  {
    field_text a(longest_inline);
    field_text b(std::move(a));
    EXPECT_EQ(b, longest_inline);
    EXPECT_EQ(kind_of(b), kind::inline_text);
    EXPECT_TRUE(a.empty()); // NOLINT(bugprone-use-after-move): moved-from is empty
  }
  {
    field_text a(first_heap);
    const char* p = a.data();
    field_text b(std::move(a));
    EXPECT_EQ(b, first_heap);
    EXPECT_EQ(kind_of(b), kind::heap);
    EXPECT_EQ(addr(b), static_cast<const void*>(p)); // the buffer moves, no copy
    EXPECT_TRUE(a.empty());                          // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(kind_of(a), kind::inline_text);
  }
  {
    auto a = field_text::borrowed(static_key);
    field_text b(std::move(a));
    EXPECT_EQ(kind_of(b), kind::borrowed);
    EXPECT_EQ(addr(b), addr(static_key));
    EXPECT_TRUE(a.empty()); // NOLINT(bugprone-use-after-move)
  }
  // Move assignment across every pair of kinds.
  const auto make = [](kind k) {
    switch (k) {
    case kind::inline_text:
      return field_text(longest_inline);
    case kind::heap:
      return field_text(first_heap);
    case kind::borrowed:
      break;
    }
    return field_text::borrowed(static_key);
  };
  for (kind from : {kind::inline_text, kind::heap, kind::borrowed})
    for (kind to : {kind::inline_text, kind::heap, kind::borrowed}) {
      field_text source = make(from);
      const field_text expected = make(from);
      field_text target = make(to);
      target = std::move(source);
      EXPECT_EQ(target, expected);
      EXPECT_EQ(kind_of(target), from);
      EXPECT_TRUE(source.empty()); // NOLINT(bugprone-use-after-move)
      source = "reused after move";
      EXPECT_EQ(source, "reused after move");
    }
}

TEST(field_text, self_assignment) {
  for (field_text t : {field_text(longest_inline), field_text(first_heap),
                       field_text::borrowed(static_key), field_text()}) {
    const std::string before = t.str();
    const bool heap = t.is_heap();
    auto& self = t;
    t = self;
    EXPECT_EQ(t, before);
    EXPECT_EQ(t.is_heap(), heap);
    t = std::move(self);
    EXPECT_EQ(t, before);
    EXPECT_EQ(t.is_heap(), heap);
  }
}

TEST(field_text, assignment_from_strings_copies) {
  field_text t = field_text::borrowed(static_key);
  std::string s(first_heap);
  t = s;
  EXPECT_EQ(kind_of(t), kind::heap);
  t = std::string_view("kWh");
  EXPECT_EQ(kind_of(t), kind::inline_text);
  EXPECT_EQ(t, "kWh");
  t = "V";
  EXPECT_EQ(t, "V");
  t = std::string(first_heap);
  EXPECT_EQ(t, first_heap);
}

TEST(field_text, conversions) {
  const field_text t(first_heap);
  const std::string_view v = t;
  EXPECT_EQ(v, first_heap);
  EXPECT_EQ(t.str(), std::string(first_heap));
  EXPECT_EQ(std::string(t), std::string(first_heap));
  std::string appended = "x";
  appended += t;
  EXPECT_EQ(appended, "x" + std::string(first_heap));
}

TEST(field_text, comparisons_with_every_string_type) {
  const field_text in("VOLTAGE_L1");
  const field_text heap(first_heap);
  const auto bor = field_text::borrowed("VOLTAGE_L1");
  const std::string s = "VOLTAGE_L1";
  const std::string_view sv = "VOLTAGE_L1";

  // Equal contents compare equal whatever the representation.
  EXPECT_EQ(in, bor);
  EXPECT_TRUE(in == bor);
  EXPECT_FALSE(in != bor);
  EXPECT_TRUE(in == s);
  EXPECT_TRUE(s == in);
  EXPECT_TRUE(in == sv);
  EXPECT_TRUE(sv == in);
  EXPECT_TRUE(in == "VOLTAGE_L1");
  EXPECT_TRUE("VOLTAGE_L1" == in);
  EXPECT_TRUE(bor != "VOLTAGE_L2");
  EXPECT_TRUE("VOLTAGE_L2" != bor);
  EXPECT_TRUE(heap != in);
  EXPECT_TRUE(heap == field_text(std::string(first_heap)));

  // Ordering is the string_view ordering.
  EXPECT_TRUE(field_text("a") < field_text("b"));
  EXPECT_TRUE(field_text("a") < field_text("ab"));
  EXPECT_TRUE(field_text("") < field_text("a"));
  EXPECT_TRUE(in < "VOLTAGE_L2");
  EXPECT_TRUE("VOLTAGE_L0" < in);
  EXPECT_TRUE(in <= s);
  EXPECT_TRUE(s >= in);
  EXPECT_TRUE(in > std::string_view("A"));
  EXPECT_EQ(heap <=> in, heap.view() <=> in.view());
  EXPECT_EQ(in <=> bor, std::strong_ordering::equal);
  EXPECT_EQ(field_text("abc") <=> std::string("abd"), std::strong_ordering::less);
}

TEST(field_text, hash_equals_string_view_hash) {
  for (const field_text& t : {field_text(), field_text("W"), field_text(longest_inline),
                              field_text(first_heap), field_text::borrowed(static_key)})
    EXPECT_EQ(std::hash<field_text>{}(t), std::hash<std::string_view>{}(t.view()));
  std::unordered_set<field_text> set{field_text("a"), field_text::borrowed("a"), field_text("b")};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.count(field_text(std::string("b"))), 1u);
}

TEST(field_text, prints_its_text) {
  std::ostringstream os;
  os << field_text("kWh") << '|' << field_text::borrowed(static_key) << '|'
     << field_text(first_heap);
  EXPECT_EQ(os.str(), "kWh|" + std::string(static_key) + "|" + std::string(first_heap));
  EXPECT_EQ(testing::PrintToString(field_text("W")), "W");
}

TEST(field_text, vector_of_fields_survives_reallocation) {
  std::vector<field> fields;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "A_LONG_FIELD_KEY_NUMBER_" + std::to_string(i);
    if (i % 3 == 0)
      fields.push_back(field{key, int64_t{i}, field_text::borrowed("varh"), "1-0:3.8.1*255"});
    else
      fields.emplace_back(field{std::to_string(i), int64_t{i}, "W", key});
  }
  for (int i = 0; i < 100; ++i) {
    const std::string key = "A_LONG_FIELD_KEY_NUMBER_" + std::to_string(i);
    if (i % 3 == 0) {
      EXPECT_EQ(fields[i].key, key);
      EXPECT_EQ(fields[i].unit, "varh");
      EXPECT_EQ(fields[i].obis, "1-0:3.8.1*255");
    } else {
      EXPECT_EQ(fields[i].key, std::to_string(i));
      EXPECT_EQ(fields[i].obis, key);
    }
  }
  const std::vector<field> copy = fields;
  EXPECT_EQ(copy, fields);
}

TEST(field_text, unowned_copy_keeps_inline_and_borrowed_text) {
  const field_text in_place("1-0:1.8.0*255");
  const field_text lent = field_text::borrowed("ACTIVE_ENERGY_P");
  const auto a = field_text::unowned_copy(in_place);
  const auto b = field_text::unowned_copy(lent);
  EXPECT_TRUE(a.is_inline());
  EXPECT_EQ(a, in_place);
  EXPECT_NE(static_cast<const void*>(a.data()), static_cast<const void*>(in_place.data()));
  EXPECT_TRUE(b.is_borrowed());
  EXPECT_EQ(static_cast<const void*>(b.data()), static_cast<const void*>(lent.data()));
}

TEST(record, set_and_find_field_with_any_text) {
  record r;
  r.set_field("POWER", 1.0);
  r.set_field(std::string("ACTIVE_ENERGY_P_T1_LONG_KEY"), int64_t{2}).unit = "Wh";
  r.set_field(field_text::borrowed("VOLTAGE_L1"), 230.0).obis = "1-0:32.7.0*255";
  ASSERT_EQ(r.fields.size(), 3u);
  // Replacing keeps unit and OBIS code.
  r.set_field(std::string_view("ACTIVE_ENERGY_P_T1_LONG_KEY"), int64_t{3});
  ASSERT_EQ(r.fields.size(), 3u);
  const field* f = r.find_field("ACTIVE_ENERGY_P_T1_LONG_KEY");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->value, field_value(int64_t{3}));
  EXPECT_EQ(f->unit, "Wh");
  ASSERT_NE(r.find_field(std::string("VOLTAGE_L1")), nullptr);
  EXPECT_EQ(r.find_field("VOLTAGE_L1")->obis, "1-0:32.7.0*255");
  EXPECT_EQ(r.find_field("missing"), nullptr);
  record copy = r;
  EXPECT_EQ(copy, r);
  copy.fields[0].unit = "kW";
  EXPECT_NE(copy, r);
}

TEST(record, tags_hold_any_text_and_replace_by_key) {
  record r;
  r.set_tag(field_text::borrowed("meter"), std::string("LGZ1030655933512"));
  r.set_tag("profile", "lge450");
  r.set_tag(std::string("location"), std::string(40, 'x'));
  ASSERT_EQ(r.tags.size(), 3u);
  // A 16-character meter id and a short key are stored in place, a literal key borrowed.
  EXPECT_TRUE(r.tags[0].first.is_borrowed());
  EXPECT_TRUE(r.tags[0].second.is_inline());
  EXPECT_TRUE(r.tags[2].second.is_heap());
  ASSERT_NE(r.tag("meter"), nullptr);
  EXPECT_EQ(*r.tag("meter"), "LGZ1030655933512");
  EXPECT_EQ(*r.tag(std::string("location")), std::string(40, 'x'));
  EXPECT_EQ(r.tag("missing"), nullptr);
  r.set_tag("meter", "other");
  ASSERT_EQ(r.tags.size(), 3u);
  EXPECT_EQ(*r.tag("meter"), "other");
  record copy = r;
  EXPECT_EQ(copy, r);
  copy.set_tag("profile", "lge570");
  EXPECT_NE(copy, r);
}

} // namespace
} // namespace wattline
