// Where Opener puts what it opens: a file renamed into place (Opener::open) or anonymous memory
// (open_bytes in sealed_bytes.hpp). The verification is the same for both (Opener::open_to);
// only the two descriptors differ. Internal to the module.
#pragma once

#include <string>

#include "kbix/core/result.hpp"

namespace kbix::envelope_detail {

class OpenTarget {
 public:
  virtual ~OpenTarget() = default;
  // A readable and writable descriptor without a name, for the decrypted SignedData; the target
  // owns it and it must outlive the open.
  virtual Result<int> scratch() = 0;
  // A readable and writable descriptor for the verified content (read back by CMS_verify); the
  // target owns it. Called once, after the signer is known to be pinned. It may be the scratch
  // descriptor itself: the content is then written over the SignedData from offset 0 (never
  // ahead of what has been read of it, since each content byte's offset in the SignedData is at
  // least its offset in the content), and the rest is wiped and cut off.
  virtual Result<int> output() = 0;
  // What the output is called in messages.
  virtual std::string output_label() const = 0;
  // Both checks passed: make the output visible.
  virtual Status commit() = 0;
};

}  // namespace kbix::envelope_detail
