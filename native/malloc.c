/*
 * edgeos_malloc.node: glibc's malloc_trim(0) and mallinfo2() for JavaScript (src/common/malloc.ts).
 * Node has no FFI and these are the only two calls edgeos needs, so this is its own Node-API addon
 * rather than a dependency; scripts/native-addon.ts compiles it for each arch at build time with the
 * Node-API headers of the pinned node-linux-* package (docs/build.md, "The malloc addon").
 * glibc only: mallinfo2 appeared in glibc 2.33 (the SQLite addon already needs 2.34).
 */
#define NAPI_VERSION 3
#include <malloc.h>
#include <node_api.h>

/* malloc_trim(0): give every whole free page of every arena back to the kernel (madvise), not only
 * the top of the heap that free() trims by itself. Returns true when some memory was released. */
static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  if (napi_get_boolean(env, malloc_trim(0) != 0, &result) != napi_ok) return NULL;
  return result;
}

static int set_number(napi_env env, napi_value obj, const char *name, size_t value) {
  napi_value v;
  return napi_create_double(env, (double)value, &v) == napi_ok && napi_set_named_property(env, obj, name, v) == napi_ok;
}

/* mallinfo2(), summed over all arenas by glibc, in bytes (ordblks: a count of free chunks). */
static napi_value info(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  struct mallinfo2 m = mallinfo2();
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  if (!set_number(env, obj, "arena", m.arena) || !set_number(env, obj, "ordblks", m.ordblks)
      || !set_number(env, obj, "hblkhd", m.hblkhd) || !set_number(env, obj, "uordblks", m.uordblks)
      || !set_number(env, obj, "fordblks", m.fordblks) || !set_number(env, obj, "keepcost", m.keepcost)) return NULL;
  return obj;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) != napi_ok
      || napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "info", NAPI_AUTO_LENGTH, info, NULL, &fn) != napi_ok
      || napi_set_named_property(env, exports, "info", fn) != napi_ok) return NULL;
  return exports;
}
