// Shared plumbing of envelope.cpp (sealing) and envelope_open.cpp (opening): OpenSSL handle
// owners, error text, buffered descriptor writers, certificate validity. Internal to the module.
#pragma once

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix::envelope_detail {

constexpr std::size_t kCopyChunkBytes = 64 * 1024;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* pointer) const noexcept { Free(pointer); }
};
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo, CMS_ContentInfo_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
struct CertStackFree {
  void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_free(stack); }
};
using CertStackPtr = std::unique_ptr<STACK_OF(X509), CertStackFree>;

// The reason of the most recent OpenSSL error (never personal data), and an empty queue after.
inline std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  std::string reason;
  if (code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    reason = text.data();
  }
  ERR_clear_error();
  return reason.empty() ? "no OpenSSL detail" : reason;
}

// Writes through a buffer to an AtomicFile's descriptor; the AtomicFile keeps the descriptor.
inline BioPtr buffered_fd_writer(int fd) {
  BIO* file = BIO_new_fd(fd, BIO_NOCLOSE);
  BIO* buffer = BIO_new(BIO_f_buffer());
  if (file == nullptr || buffer == nullptr) {
    BIO_free(file);
    BIO_free(buffer);
    return nullptr;
  }
  BIO_set_write_buffer_size(buffer, static_cast<long>(kCopyChunkBytes));
  return BioPtr(BIO_push(buffer, file));
}

// Reads a descriptor (not closed) through a 1 MiB buffer, for readers that ask for little at a
// time (CMS_verify's content copy).
inline BioPtr buffered_fd_reader(int fd) {
  BIO* file = BIO_new_fd(fd, BIO_NOCLOSE);
  BIO* buffer = BIO_new(BIO_f_buffer());
  if (file == nullptr || buffer == nullptr || BIO_set_read_buffer_size(buffer, 1L << 20) <= 0) {
    BIO_free(file);
    BIO_free(buffer);
    return nullptr;
  }
  return BioPtr(BIO_push(buffer, file));
}

// Pops and frees BIOs from `top` down to (not including) `stop`, as OpenSSL's own streaming
// writers do; `stop` stays with its owner.
inline void free_chain_until(BIO* top, BIO* stop) {
  while (top != nullptr && top != stop) {
    BIO* next = BIO_pop(top);
    BIO_free(top);
    top = next;
  }
}

inline bool time_after(const ASN1_TIME* when, std::time_t now) {  // `when` is later than now
  return X509_cmp_time(when, &now) > 0;
}

inline std::optional<std::uint64_t> size_of_file(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(info.st_size);
}

// Whether `certificate` is valid at `at` (default: now); `at_text` says when, for the message.
// `not_yet_valid` and `expired` are the codes for the role ("envelope.signer_expired", ...).
inline Status check_validity(const Certificate& certificate, const char* role,
                             ErrorCode not_yet_valid, ErrorCode expired,
                             std::time_t at = std::time(nullptr), const std::string& at_text = "") {
  const std::string when = at_text.empty() ? "" : " at " + at_text;
  if (time_after(X509_get0_notBefore(certificate.native()), at)) {
    return fail(not_yet_valid, std::string(role) + " certificate \"" + certificate.subject() +
                                   "\" is not valid yet" + when);
  }
  if (!time_after(X509_get0_notAfter(certificate.native()), at)) {
    return fail(expired, std::string(role) + " certificate \"" + certificate.subject() +
                             "\" has expired" + when);
  }
  return ok();
}

}  // namespace kbix::envelope_detail
