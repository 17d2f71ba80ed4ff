#pragma once

// AES-128-GCM for DLMS security suite 0/1 through OpenSSL EVP. IV = system title (8) ||
// invocation counter (4, big-endian); tag = 12 bytes. Key material stays inside this class and
// OpenSSL's contexts; nothing here ever formats a key into a string.

#include <array>
#include <cstdint>
#include <span>

struct evp_cipher_ctx_st;

namespace wattline::dlms {

/// A 16-byte AES-128 key.
using aes_key = std::array<uint8_t, 16>;

/// A 12-byte GCM IV.
using gcm_iv = std::array<uint8_t, 12>;

/// Builds the IV from system title and invocation counter.
[[nodiscard]] gcm_iv make_iv(std::span<const uint8_t, 8> system_title,
                             uint32_t invocation_counter) noexcept;

/// AES-128-GCM with a fixed key; the key schedule is computed once.
class aes_gcm {
public:
  /// Sets up the OpenSSL contexts for `key`.
  explicit aes_gcm(const aes_key& key);
  /// Frees (and cleanses) the OpenSSL contexts.
  ~aes_gcm();
  aes_gcm(const aes_gcm&) = delete;
  aes_gcm& operator=(const aes_gcm&) = delete;

  /// Decrypts without checking a tag: AES-CTR from counter block IV || 00000002, which is what
  /// GCM produces for the payload. `out` must hold `in.size()` bytes. False on an OpenSSL error.
  bool decrypt_ctr(const gcm_iv& iv, std::span<const uint8_t> in, uint8_t* out) noexcept;

  /// Decrypts and verifies the (12-byte or longer) tag over `aad` and the ciphertext. Returns
  /// false when the tag does not match or OpenSSL fails; `out` is then unspecified.
  bool decrypt_verify(const gcm_iv& iv, std::span<const uint8_t> aad, std::span<const uint8_t> in,
                      std::span<const uint8_t> tag, uint8_t* out) noexcept;

  /// Encrypts and computes a tag of `tag.size()` bytes (4..16). False on an OpenSSL error.
  bool encrypt(const gcm_iv& iv, std::span<const uint8_t> aad, std::span<const uint8_t> in,
               uint8_t* out, std::span<uint8_t> tag) noexcept;

  /// True when both contexts were set up.
  [[nodiscard]] bool valid() const noexcept { return ctr_ != nullptr && gcm_ != nullptr; }

private:
  evp_cipher_ctx_st* ctr_ = nullptr;
  evp_cipher_ctx_st* gcm_ = nullptr;
  evp_cipher_ctx_st* enc_ = nullptr;
};

} // namespace wattline::dlms
