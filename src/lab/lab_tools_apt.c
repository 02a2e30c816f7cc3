/* lab_tools_apt.c - the lab's packages: apt-get, apt-cache, apt-mark and dpkg-query
 * over the node's installed set and repository, with the driver's firmware dependency. */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

/* ---- packages ------------------------------------------------------------------------- */

static bool
repo_has(struct tool_ctx *c, const char *pkg, const char *ver)
{
	json_t *vers = json_object_get(json_object_get(c->st, "repo"), pkg);

	return vers && (!ver || lab_in_list(vers, ver));
}

/* The branch suffix of nvidia-driver-560 -> "560"; NULL for other packages. */
static const char *
nvidia_family(const char *pkg, const char *prefix)
{
	size_t n = strlen(prefix);
	return !strncmp(pkg, prefix, n) ? pkg + n : NULL;
}

/* "560.35.03-1" -> "560.35.03": what the driver itself reports. Allocated. */
static char *
upstream(const char *deb_version)
{
	const char *dash = strrchr(deb_version, '-');
	return dash ? xstrndup(deb_version, (size_t)(dash - deb_version)) : xstrdup(deb_version);
}

/*
 * The loaded module initialises the GPUs only with the GSP firmware of its own
 * release (/lib/firmware/nvidia/VERSION/gsp_*.bin). Without it every GPU fails at
 * RmInitAdapter and nvidia-smi finds none; the kernel log says why, once a boot.
 */
void
lab_gsp_check(json_t *st)
{
	char *fw = upstream(jstr(json_object_get(st, "packages"), "firmware-nvidia-gsp"));
	bool ok = !jtrue(st, "module_loaded") || !strcmp(fw, jstr(st, "module_version"));
	json_t *g;
	size_t i;

	free(fw);
	if (ok || jint(st, "gsp_failed_boot") == jint(st, "boot")) {
		if (ok)
			jset_int(st, "gsp_failed_boot", 0);
		return;
	}
	jset_int(st, "gsp_failed_boot", jint(st, "boot"));
	json_array_foreach(json_object_get(st, "gpus"), i, g) {
		const char *bus = jstr(g, "bus");
		char *m = xasprintf("nvidia 0000:%s:00.0: Direct firmware load for nvidia/%s/gsp_ga10x.bin "
				    "failed with error -2", bus, jstr(st, "module_version"));
		lab_log_kernel(st, lab_now(st), m);
		free(m);
		lab_log_kernel(st, lab_now(st), "NVRM: RmFetchGspRmImages: No firmware image found");
		m = xasprintf("NVRM: GPU 0000:%s:00.0: RmInitAdapter failed! (0x61:0x56:1697)", bus);
		lab_log_kernel(st, lab_now(st), m);
		free(m);
		m = xasprintf("NVRM: GPU 0000:%s:00.0: rm_init_adapter failed, device minor number %zu", bus, i);
		lab_log_kernel(st, lab_now(st), m);
		free(m);
	}
}

static void
install_pkg(struct tool_ctx *c, const char *pkg, const char *ver)
{
	json_t *pk = json_object_get(c->st, "packages");
	char *up = upstream(ver);
	const char *k;
	json_t *v;
	void *tmp;

	/* One driver branch at a time: installing nvidia-driver-560 replaces -550. */
	json_object_foreach_safe(pk, tmp, k, v) {
		if ((nvidia_family(pkg, "nvidia-driver-") && nvidia_family(k, "nvidia-driver-")) ||
		    (nvidia_family(pkg, "nvidia-fabricmanager-") &&
		     nvidia_family(k, "nvidia-fabricmanager-")) ||
		    (nvidia_family(pkg, "libnvidia-compute-") && nvidia_family(k, "libnvidia-compute-")))
			json_object_del(pk, k);
	}
	jset_str(pk, pkg, ver);
	if (nvidia_family(pkg, "nvidia-driver-")) {
		/* The libraries change now; DKMS builds the module now; it loads at the next boot.
		 * The driver depends on the GSP firmware of its own release, exactly. */
		jset_str(pk, "firmware-nvidia-gsp", ver);
		jset_str(c->st, "driver", up);
		jset_str(json_object_get(c->st, "dkms"), jstr(c->st, "kernel"), up);
		if (!jtrue(c->st, "persistent"))
			jset_str(c->st, "gsp_fw_pending", up);
	}
	if (nvidia_family(pkg, "nvidia-fabricmanager-")) {
		jset_str(c->st, "fm_version", up);
		/* The package brings its unit; it starts at the next boot or when started. */
		if (!*jstr(json_object_get(c->st, "services"), "nvidia-fabricmanager"))
			jset_str(json_object_get(c->st, "services"), "nvidia-fabricmanager", "inactive");
	}
	free(up);
}

/*
 * The driver depends on the GSP firmware of its exact version. apt moves that
 * dependency up to its newest version by itself, never back: installing an older
 * driver without naming the firmware fails, and installs nothing.
 */
static int
apt_firmware_unmet(struct tool_ctx *c, int argc, char **argv)
{
	json_t *fw_repo = json_object_get(json_object_get(c->st, "repo"), "firmware-nvidia-gsp");
	const char *have = jstr(json_object_get(c->st, "packages"), "firmware-nvidia-gsp");
	const char *newest = json_string_value(json_array_get(fw_repo, json_array_size(fw_repo) - 1));
	const char *named = NULL, *drv = NULL, *drv_ver = NULL;
	int k;

	for (k = 1; k < argc; k++) {
		const char *eq = strchr(argv[k], '=');
		if (!eq || argv[k][0] == '-')
			continue;
		if (!strncmp(argv[k], "firmware-nvidia-gsp=", 20))
			named = eq + 1;
		else if (nvidia_family(argv[k], "nvidia-driver-")) {
			drv = argv[k];
			drv_ver = eq + 1;
		}
	}
	if (!drv || !strcmp(named ? named : have, drv_ver) || (!named && newest && !strcmp(drv_ver, newest)))
		return 0;
	printf("Some packages could not be installed.\nThe following packages have unmet dependencies:\n"
	       " %.*s : Depends: firmware-nvidia-gsp (= %s) but %s is to be installed\n",
	       (int)(strchr(drv, '=') - drv), drv, drv_ver, named ? named : have);
	fprintf(stderr, "E: Unable to correct problems, you have held broken packages.\n");
	return 100;
}

int
tool_apt_get(struct tool_ctx *c, int argc, char **argv)
{
	int k;
	bool reinstall = arg_has(argc, argv, "--reinstall");

	if (argc < 2 || strcmp(argv[1], "install")) {
		for (k = 1; k < argc && argv[k][0] == '-'; k++)
			;
		if (k >= argc || strcmp(argv[k], "install"))
			return tool_usage(c, "the lab simulates 'apt-get install [-y] [--reinstall] PKG[=VER]...'");
	}
	if (jtrue(c->st, "apt_broken")) {
		printf("Reading package lists...\nSetting up nvidia-dkms ...\n");
		fprintf(stderr, "E: Sub-process /usr/bin/dpkg returned an error code (1)\n");
		return 100;
	}
	printf("Reading package lists...\nBuilding dependency tree...\n");
	if (apt_firmware_unmet(c, argc, argv))
		return 100;
	for (k = 1; k < argc; k++) {
		char *pkg, *eq;
		const char *ver;
		json_t *vers;
		if (argv[k][0] == '-' || !strcmp(argv[k], "install"))
			continue;
		pkg = xstrdup(argv[k]);
		eq = strchr(pkg, '=');
		if (eq)
			*eq++ = 0;
		vers = json_object_get(json_object_get(c->st, "repo"), pkg);
		ver = eq ? eq : json_string_value(json_array_get(vers, json_array_size(vers) - 1));
		if (!repo_has(c, pkg, eq)) {
			fprintf(stderr, eq ? "E: Version '%s' for '%s' was not found\n"
					   : "E: Unable to locate package %s%s\n", eq ? eq : pkg,
				eq ? pkg : "");
			free(pkg);
			return 100;
		}
		printf("%s %s (%s) ...\n", reinstall ? "Reinstalling" : "Setting up", pkg, ver);
		install_pkg(c, pkg, ver);
		free(pkg);
	}
	c->dirty = true;
	return 0;
}

int
tool_apt_cache(struct tool_ctx *c, int argc, char **argv)
{
	json_t *vers;
	const char *inst;
	size_t i;

	if (argc >= 3 && !strcmp(argv[1], "madison")) {
		/* As NVIDIA's repository answers (tests/fixtures/real: apt-cache-madison...). */
		vers = json_object_get(json_object_get(c->st, "repo"), argv[2]);
		for (i = json_array_size(vers); i-- > 0;)
			printf("%s | %s | https://developer.download.nvidia.com/compute/cuda/repos/"
			       "debian12/x86_64  Packages\n", argv[2],
			       json_string_value(json_array_get(vers, i)));
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "policy"))
		return tool_usage(c, "the lab simulates 'apt-cache policy|madison PKG'");
	vers = json_object_get(json_object_get(c->st, "repo"), argv[2]);
	inst = jstr(json_object_get(c->st, "packages"), argv[2]);
	if (!vers)
		return 0; /* apt-cache prints nothing for an unknown package */
	printf("%s:\n  Installed: %s\n  Candidate: %s\n  Version table:\n", argv[2],
	       *inst ? inst : "(none)", json_string_value(json_array_get(vers, json_array_size(vers) - 1)));
	for (i = json_array_size(vers); i-- > 0;)
		printf("     %s 600\n        600 https://developer.download.nvidia.com/compute/cuda/repos/"
		       "debian12/x86_64  Packages\n", json_string_value(json_array_get(vers, i)));
	return 0;
}

int
tool_apt_mark(struct tool_ctx *c, int argc, char **argv)
{
	json_t *held = json_object_get(c->st, "held");
	int k;
	size_t i;

	if (argc < 2)
		return tool_usage(c, "the lab simulates 'apt-mark hold|unhold|showhold PKG...'");
	if (!strcmp(argv[1], "showhold")) {
		for (i = 0; i < json_array_size(held); i++)
			printf("%s\n", json_string_value(json_array_get(held, i)));
		return 0;
	}
	for (k = 2; k < argc; k++) {
		if (!strcmp(argv[1], "hold")) {
			if (!lab_in_list(held, argv[k]))
				json_array_append_new(held, json_string(argv[k]));
			printf("%s set on hold.\n", argv[k]);
		} else if (!strcmp(argv[1], "unhold")) {
			for (i = 0; i < json_array_size(held); i++)
				if (!strcmp(json_string_value(json_array_get(held, i)), argv[k]))
					json_array_remove(held, i--);
			printf("Canceled hold on %s.\n", argv[k]);
		}
	}
	c->dirty = true;
	return 0;
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A dpkg-query -f format: ${Package}, ${Version} and \n, as dpkg-query(1) expands them. */
static void
print_format(const char *fmt, const char *pkg, const char *ver)
{
	const char *p;

	for (p = fmt; *p; p++) {
		if (!strncmp(p, "${Package}", 10)) {
			fputs(pkg, stdout);
			p += 9;
		} else if (!strncmp(p, "${Version}", 10)) {
			fputs(ver, stdout);
			p += 9;
		} else if (!strncmp(p, "${Status}", 9)) {
			fputs("install ok installed", stdout); /* the lab's packages are all installed */
			p += 8;
		} else if (p[0] == '\\' && p[1] == 'n') {
			putchar('\n');
			p++;
		} else {
			putchar(*p);
		}
	}
}

int
tool_dpkg_query(struct tool_ctx *c, int argc, char **argv)
{
	json_t *pk = json_object_get(c->st, "packages"), *v;
	const char *k, *fmt = arg_val(argc, argv, "-f"), *patterns[16];
	const char *keys[64];
	size_t n = 0, i, np = 0, j;
	int a;

	if (!arg_has(argc, argv, "-W"))
		return tool_usage(c, "the lab simulates 'dpkg-query -W [-f FORMAT] [PATTERN]'");
	for (a = 1; a < argc; a++)
		if (argv[a][0] != '-' && (a == 1 || strcmp(argv[a - 1], "-f")) && np < 16)
			patterns[np++] = argv[a];
	json_object_foreach(pk, k, v) {
		bool hit = !np;
		for (j = 0; j < np && !hit; j++)
			hit = fnmatch(patterns[j], k, 0) == 0;
		if (hit && n < 64)
			keys[n++] = k;
	}
	/* As dpkg-query does: a pattern nothing matches is an error, the rest still print. */
	for (j = 0, a = 0; j < np; j++) {
		bool any = false;
		for (i = 0; i < n && !any; i++)
			any = fnmatch(patterns[j], keys[i], 0) == 0;
		if (!any) {
			fprintf(stderr, "dpkg-query: no packages found matching %s\n", patterns[j]);
			a = 1;
		}
	}
	qsort(keys, n, sizeof(keys[0]), cmp_key);
	for (i = 0; i < n; i++) {
		if (fmt)
			print_format(fmt, keys[i], jstr(pk, keys[i]));
		else
			printf("%s\t%s\n", keys[i], jstr(pk, keys[i]));
	}
	return a;
}

