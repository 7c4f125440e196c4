#pragma once

// Atomic file writes, in plain C++ (no LibTorch): what the core, the trainer
// and the GStreamer plugins use to write a file a reader sees whole or not at
// all. Built as the small static library prn-base, which prn-core and the
// prnline plugin (which does not link LibTorch) both link.

#include <string>
#include <string_view>

namespace prn {

struct AtomicWriteOptions {
  // Replace an existing file at the path (rename); false: never replace it
  // (renameat2 RENAME_NOREPLACE), the write fails and `exists` is set.
  bool replace = true;
};

struct AtomicWriteResult {
  std::string error; // "" on success, else what failed, naming the file
  bool exists = false; // with replace = false: the path was already taken
  bool ok() const { return error.empty(); }
};

// Writes bytes to a hidden temporary file beside path (".<name>.tmp-XXXXXX",
// mode 0644), fsyncs it, renames it to path and fsyncs the folder, so the
// rename survives a power cut. On any failure the temporary file is removed
// and a file already at path is untouched. Never throws.
AtomicWriteResult write_file_atomically(const std::string &path, std::string_view bytes,
                                        AtomicWriteOptions options = {});

// True for a name write_file_atomically gives its temporary files (leftovers
// of an interrupted write): '.' + name + ".tmp-" + six characters. `target`
// gets the name the file was to have.
bool is_atomic_temporary(const std::string &file_name, std::string *target = nullptr);

} // namespace prn
