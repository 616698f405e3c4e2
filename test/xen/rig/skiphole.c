/*
 * LD_PRELOAD for `xl dump-core` of a PVH domain in duster's Xen rig. libxenguest walks every gpfn
 * up to the highest one (special pages sit just below 4 GiB) and maps each with its own
 * xenforeignmemory_map call, which fails slowly for the ~1M gpfns of the hole above the guest's
 * RAM. XFM_SKIP=LO-HI (hex gpfns) fails one-page maps inside [LO, HI) at once, as Xen would.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

typedef void *(*map_fn)(void *, uint32_t, int, size_t, const uint64_t *, int *);

void *xenforeignmemory_map(void *fmem, uint32_t dom, int prot, size_t pages, const uint64_t arr[], int err[])
{
	static map_fn real;
	static uint64_t lo, hi;
	static int ready;

	if (!ready) {
		const char *s = getenv("XFM_SKIP");
		char *end;
		if (s) {
			lo = strtoull(s, &end, 16);
			hi = *end == '-' ? strtoull(end + 1, NULL, 16) : lo;
		}
		real = (map_fn)dlsym(RTLD_NEXT, "xenforeignmemory_map");
		ready = 1;
	}
	if (pages == 1 && arr[0] >= lo && arr[0] < hi) {
		if (err)
			err[0] = -EFAULT;
		errno = EFAULT;
		return NULL;
	}
	return real(fmem, dom, prot, pages, arr, err);
}
