// dkdata/diagnostics.hpp: warnings about things dkdata did on its own that a user should know
// about, such as a torn last line dropped while recovering a file store after a crash.
//
// Thread-safety: EmitWarning may be called from any thread; the handler is called on the emitting
// thread and must be thread-safe itself. SetWarningHandler must not race with EmitWarning.
#pragma once

#include <functional>
#include <string_view>

namespace dkdata {

// backend: the backend's registry name ("file", ...); message: what happened and where.
using WarningHandler = std::function<void(std::string_view backend, std::string_view message)>;

// Replaces the handler (the default prints "dkdata: warning: <backend>: <message>" on stderr) and
// returns the previous one. An empty handler restores the default.
WarningHandler SetWarningHandler(WarningHandler handler);

void EmitWarning(std::string_view backend, std::string_view message);

}  // namespace dkdata
