// The compound-file container comes from libgsf (GsfOutfileMSOle); nothing of MS-CFB is written
// here by hand. GObject casts are spelled as reinterpret_cast: GLib's checking macros are C casts,
// which the project's -Wold-style-cast refuses; each cast below is an upcast to a parent class,
// or the downcast of the memory output back to the GsfOutputMemory it was made as.
#include "internal/compound_file.hpp"

#include <gsf/gsf-outfile-msole.h>
#include <gsf/gsf-outfile.h>
#include <gsf/gsf-output-memory.h>
#include <gsf/gsf-utils.h>

#include <map>
#include <mutex>
#include <utility>

namespace kbix::office::internal {
namespace {

GsfOutput* as_output(GsfOutfile* outfile) {
  return reinterpret_cast<GsfOutput*>(outfile);
}

// Owns one GObject reference.
template <class T>
struct Ref {
  T* object = nullptr;
  explicit Ref(T* o) : object(o) {}
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  Ref(Ref&& other) noexcept : object(std::exchange(other.object, nullptr)) {}
  ~Ref() {
    if (object != nullptr) g_object_unref(object);
  }
};

Unexpected<Error> write_failed(std::string_view what) {
  return fail("office.cfb_write", "writing the compound file failed at " + std::string(what));
}

}  // namespace

Result<std::string> write_compound_file(const std::vector<CompoundStream>& streams) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { gsf_init(); });

  Ref<GsfOutput> memory(gsf_output_memory_new());
  // Version 3 compound file (512-byte sectors), as Office itself writes for small files.
  Ref<GsfOutfile> root(gsf_outfile_msole_new(memory.object));
  if (root.object == nullptr) return write_failed("the root storage");
  {
    // Storages by path; each holds a reference until every stream is written, then all are
    // closed children-first (longer paths first) so each storage is complete when it closes.
    std::map<std::string, Ref<GsfOutfile>, std::greater<>> storages;
    for (const auto& stream : streams) {
      GsfOutfile* parent = root.object;
      std::string prefix;
      std::string_view rest = stream.path;
      for (auto slash = rest.find('/'); slash != std::string_view::npos; slash = rest.find('/')) {
        prefix += std::string(rest.substr(0, slash)) + "/";
        auto found = storages.find(prefix);
        if (found == storages.end()) {
          const std::string name(rest.substr(0, slash));
          auto* child = gsf_outfile_new_child(parent, name.c_str(), TRUE);
          if (child == nullptr) return write_failed("a storage");
          found =
              storages.emplace(prefix, Ref<GsfOutfile>(reinterpret_cast<GsfOutfile*>(child))).first;
        }
        parent = found->second.object;
        rest.remove_prefix(slash + 1);
      }
      const std::string name(rest);
      Ref<GsfOutput> child(gsf_outfile_new_child(parent, name.c_str(), FALSE));
      if (child.object == nullptr) return write_failed("a stream");
      const bool written =
          gsf_output_write(child.object, stream.bytes.size(),
                           reinterpret_cast<const guint8*>(stream.bytes.data())) != FALSE;
      if (!written || gsf_output_close(child.object) == FALSE) return write_failed("a stream");
    }
    for (auto& [path, storage] : storages)
      if (gsf_output_close(as_output(storage.object)) == FALSE) return write_failed("a storage");
  }
  if (gsf_output_close(as_output(root.object)) == FALSE) return write_failed("the root storage");

  auto* bytes = gsf_output_memory_get_bytes(reinterpret_cast<GsfOutputMemory*>(memory.object));
  const auto size = gsf_output_size(memory.object);
  if (bytes == nullptr || size <= 0) return write_failed("the end");
  return std::string(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size));
}

}  // namespace kbix::office::internal
