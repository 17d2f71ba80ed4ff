#include "actors/dlms/crypto.hpp"

#include <climits>
#include <cstring>

#include <openssl/evp.h>

namespace wattline::dlms {

gcm_iv make_iv(std::span<const uint8_t, 8> system_title, uint32_t invocation_counter) noexcept {
  gcm_iv iv{};
  std::memcpy(iv.data(), system_title.data(), 8);
  iv[8] = static_cast<uint8_t>(invocation_counter >> 24);
  iv[9] = static_cast<uint8_t>(invocation_counter >> 16);
  iv[10] = static_cast<uint8_t>(invocation_counter >> 8);
  iv[11] = static_cast<uint8_t>(invocation_counter);
  return iv;
}

aes_gcm::aes_gcm(const aes_key& key) {
  ctr_ = EVP_CIPHER_CTX_new();
  gcm_ = EVP_CIPHER_CTX_new();
  enc_ = EVP_CIPHER_CTX_new();
  if (ctr_ == nullptr || gcm_ == nullptr || enc_ == nullptr ||
      EVP_DecryptInit_ex(ctr_, EVP_aes_128_ctr(), nullptr, key.data(), nullptr) != 1 ||
      EVP_DecryptInit_ex(gcm_, EVP_aes_128_gcm(), nullptr, key.data(), nullptr) != 1 ||
      EVP_EncryptInit_ex(enc_, EVP_aes_128_gcm(), nullptr, key.data(), nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctr_);
    EVP_CIPHER_CTX_free(gcm_);
    EVP_CIPHER_CTX_free(enc_);
    ctr_ = gcm_ = enc_ = nullptr;
  }
}

aes_gcm::~aes_gcm() {
  EVP_CIPHER_CTX_free(ctr_);
  EVP_CIPHER_CTX_free(gcm_);
  EVP_CIPHER_CTX_free(enc_);
}

bool aes_gcm::decrypt_ctr(const gcm_iv& iv, std::span<const uint8_t> in, uint8_t* out) noexcept {
  if (!valid() || in.size() > INT_MAX)
    return false;
  uint8_t counter[16];
  std::memcpy(counter, iv.data(), 12);
  counter[12] = 0;
  counter[13] = 0;
  counter[14] = 0;
  counter[15] = 2;
  int len = 0;
  if (EVP_DecryptInit_ex(ctr_, nullptr, nullptr, nullptr, counter) != 1)
    return false;
  if (!in.empty() &&
      EVP_DecryptUpdate(ctr_, out, &len, in.data(), static_cast<int>(in.size())) != 1)
    return false;
  return true;
}

bool aes_gcm::decrypt_verify(const gcm_iv& iv, std::span<const uint8_t> aad,
                             std::span<const uint8_t> in, std::span<const uint8_t> tag,
                             uint8_t* out) noexcept {
  if (!valid() || in.size() > INT_MAX || aad.size() > INT_MAX || tag.size() < 4 || tag.size() > 16)
    return false;
  int len = 0;
  if (EVP_DecryptInit_ex(gcm_, nullptr, nullptr, nullptr, iv.data()) != 1)
    return false;
  if (!aad.empty() &&
      EVP_DecryptUpdate(gcm_, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    return false;
  if (!in.empty() &&
      EVP_DecryptUpdate(gcm_, out, &len, in.data(), static_cast<int>(in.size())) != 1)
    return false;
  if (EVP_CIPHER_CTX_ctrl(gcm_, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                          const_cast<uint8_t*>(tag.data())) != 1)
    return false;
  uint8_t final_block[16];
  return EVP_DecryptFinal_ex(gcm_, final_block, &len) > 0;
}

bool aes_gcm::encrypt(const gcm_iv& iv, std::span<const uint8_t> aad, std::span<const uint8_t> in,
                      uint8_t* out, std::span<uint8_t> tag) noexcept {
  if (!valid() || in.size() > INT_MAX || aad.size() > INT_MAX || tag.size() < 4 || tag.size() > 16)
    return false;
  int len = 0;
  if (EVP_EncryptInit_ex(enc_, nullptr, nullptr, nullptr, iv.data()) != 1)
    return false;
  if (!aad.empty() &&
      EVP_EncryptUpdate(enc_, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    return false;
  if (!in.empty() &&
      EVP_EncryptUpdate(enc_, out, &len, in.data(), static_cast<int>(in.size())) != 1)
    return false;
  uint8_t final_block[16];
  if (EVP_EncryptFinal_ex(enc_, final_block, &len) != 1)
    return false;
  return EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()),
                             tag.data()) == 1;
}

} // namespace wattline::dlms
