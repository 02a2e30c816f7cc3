/* lab_tools_sys.c - the lab's system tools: services, kernel modules, DKMS, packages,
 * boot entries. They change the simulated node, never the machine they run on. */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <string.h>
#include <time.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

static char *
unit_name(const char *u)
{
	char *s = xstrdup(u), *dot = strstr(s, ".service");

	if (dot)
		*dot = 0;
	return s;
}

static bool
in_list(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), s))
			return true;
	return false;
}

int
tool_systemctl(struct tool_ctx *c, int argc, char **argv)
{
	json_t *svc = json_object_get(c->st, "services");
	const char *verb = NULL;
	int k, rc = 0;
	bool now = arg_has(argc, argv, "--now");
	/* is-active -q: the exit status alone. */
	bool quiet = arg_has(argc, argv, "-q") || arg_has(argc, argv, "--quiet");

	for (k = 1; k < argc && !verb; k++)
		if (argv[k][0] != '-')
			verb = argv[k];
	if (!verb)
		return tool_usage(c, "the lab simulates start|stop|restart|enable|disable|is-active|status|cat UNIT...");
	if (strcmp(verb, "start") && strcmp(verb, "stop") && strcmp(verb, "restart") &&
	    strcmp(verb, "enable") && strcmp(verb, "disable") && strcmp(verb, "is-active") &&
	    strcmp(verb, "status") && strcmp(verb, "cat")) {
		fprintf(stderr, "rbx lab: 'systemctl %s' is not simulated in the lab\n", verb);
		return 127;
	}
	for (; k < argc; k++) {
		char *u;
		const char *st;
		if (argv[k][0] == '-')
			continue;
		u = unit_name(argv[k]);
		st = jstr(svc, u);
		if (!*st && !strcmp(verb, "is-active")) {
			/* systemctl is-active on a unit that is not there: "inactive", 3. */
			if (!quiet)
				printf("inactive\n");
			rc = 3;
			free(u);
			continue;
		}
		if (!*st && !strcmp(verb, "cat")) {
			fprintf(stderr, "No files found for %s.service.\n", u);
			free(u);
			rc = 1;
			continue;
		}
		if (!strcmp(verb, "cat")) {
			printf("# /lib/systemd/system/%s.service\n[Unit]\nDescription=%s\n", u, u);
			free(u);
			continue;
		}
		if (!*st) {
			fprintf(stderr, "Failed to %s %s.service: Unit %s.service not loaded.\n", verb, u, u);
			free(u);
			rc = 5;
			continue;
		}
		if (!strcmp(verb, "is-active")) {
			if (!quiet)
				printf("%s\n", st);
			if (strcmp(st, "active"))
				rc = 3;
		} else if (!strcmp(verb, "status")) {
			printf("* %s.service\n     Loaded: loaded (/lib/systemd/system/%s.service; enabled)\n"
			       "     Active: %s\n", u, u,
			       !strcmp(st, "active") ? "active (running)" : !strcmp(st, "failed")
							      ? "failed (Result: exit-code)"
							      : "inactive (dead)");
			if (strcmp(st, "active"))
				rc = 3;
		} else if (!strcmp(verb, "stop") || (!strcmp(verb, "disable") && now)) {
			jset_str(svc, u, "inactive");
			if (!strcmp(u, "nvidia-persistenced")) /* what it held, it lets go */
				json_object_del(c->st, "persistence_mode");
		} else if (!strcmp(verb, "start") || !strcmp(verb, "restart") ||
			   (!strcmp(verb, "enable") && now)) {
			bool fm_mismatch = !strcmp(u, "nvidia-fabricmanager") &&
					   (strcmp(jstr(c->st, "fm_version"), jstr(c->st, "driver")) ||
					    !jtrue(c->st, "nvswitch"));
			if (in_list(json_object_get(c->st, "broken_services"), u) || fm_mismatch) {
				fprintf(stderr, "Job for %s.service failed because the control process exited "
						"with error code.\nSee \"systemctl status %s.service\" and "
						"\"journalctl -xeu %s.service\" for details.\n", u, u, u);
				jset_str(svc, u, "failed");
				rc = 1;
			} else {
				if (!strcmp(u, "nvidia-persistenced") && strcmp(st, "active"))
					json_object_del(c->st, "persistence_mode"); /* as its unit says */
				jset_str(svc, u, "active");
			}
		}
		free(u);
	}
	c->dirty = true;
	return rc;
}

static bool
services_hold_gpu(struct tool_ctx *c)
{
	return service_active(c->st, "nvidia-dcgm") || service_active(c->st, "nvidia-persistenced") ||
	       service_active(c->st, "nvidia-fabricmanager") ||
	       json_array_size(json_object_get(c->st, "procs"));
}

/* modprobe nvidia, modprobe -r nvidia_uvm ..., rmmod ... */
int
tool_modprobe(struct tool_ctx *c, int argc, char **argv)
{
	bool remove = !strcmp(c->tool, "rmmod") || arg_has(argc, argv, "-r");
	const char *built = jstr(json_object_get(c->st, "dkms"), jstr(c->st, "kernel"));
	int k;

	for (k = 1; k < argc; k++) {
		if (argv[k][0] == '-')
			continue;
		if (strncmp(argv[k], "nvidia", 6)) {
			fprintf(stderr, "modprobe: FATAL: Module %s not found in directory "
					"/lib/modules/%s\n", argv[k], jstr(c->st, "kernel"));
			return 1;
		}
		if (remove && !strcmp(argv[k], "nvidia_peermem")) {
			jset_bool(c->st, "peermem", false);
			continue;
		}
		if (remove) {
			if (!jtrue(c->st, "module_loaded"))
				continue;
			/* GPUDirect RDMA's module uses nvidia: it goes first. */
			if (services_hold_gpu(c) || jtrue(c->st, "peermem")) {
				fprintf(stderr, "modprobe: FATAL: Module nvidia is in use.\n");
				return 1;
			}
			jset_bool(c->st, "module_loaded", false);
			continue;
		}
		if (!strcmp(argv[k], "nvidia_peermem") && jtrue(c->st, "module_loaded")) {
			jset_bool(c->st, "peermem", true);
			continue;
		}
		if (jtrue(c->st, "module_loaded"))
			continue;
		if (!*built) {
			fprintf(stderr, "modprobe: FATAL: Module nvidia not found in directory "
					"/lib/modules/%s\n", jstr(c->st, "kernel"));
			return 1;
		}
		if (jtrue(c->st, "secure_boot") && !jtrue(c->st, "module_signed")) {
			fprintf(stderr, "modprobe: ERROR: could not insert 'nvidia': Key was rejected by "
					"service\n");
			lab_log_kernel(c->st, lab_now(c->st), "Loading of unsigned module is rejected");
			return 1;
		}
		jset_bool(c->st, "module_loaded", true);
		jset_str(c->st, "module_version", built);
		if (!jtrue(c->st, "persistent"))
			jset_str(c->st, "gsp_fw", built);
	}
	c->dirty = true;
	return 0;
}

int
tool_lsmod(struct tool_ctx *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("Module                  Size  Used by\n");
	if (jtrue(c->st, "module_loaded")) {
		printf("nvidia_uvm           1523712  0\n");
		printf("nvidia_drm             90112  0\n");
		printf("nvidia_modeset       1306624  1 nvidia_drm\n");
		if (jtrue(c->st, "peermem"))
			printf("nvidia_peermem         16384  0\n");
		printf("nvidia              56770560  %d nvidia_uvm,%snvidia_modeset\n",
		       jtrue(c->st, "peermem") ? 3 : 2, jtrue(c->st, "peermem") ? "nvidia_peermem," : "");
	}
	printf("ipmi_si                81920  0\nipmi_devintf           20480  0\n");
	return 0;
}

int
tool_modinfo(struct tool_ctx *c, int argc, char **argv)
{
	const char *field = arg_val(argc, argv, "-F");
	const char *built = jstr(json_object_get(c->st, "dkms"), jstr(c->st, "kernel"));

	if (!*built) {
		fprintf(stderr, "modinfo: ERROR: Module nvidia not found.\n");
		return 1;
	}
	if (field && !strcmp(field, "version"))
		printf("%s\n", built);
	else if (field && !strcmp(field, "signer"))
		printf("%s", jtrue(c->st, "module_signed") ? "DKMS module signing key\n" : "");
	else if (!field)
		printf("filename:       /lib/modules/%s/updates/dkms/nvidia.ko\nversion:        %s\n"
		       "license:        NVIDIA\n", jstr(c->st, "kernel"), built);
	return 0;
}

static bool
has_headers(struct tool_ctx *c, const char *kernel)
{
	char *pkg = xasprintf("linux-headers-%s", kernel);
	bool ok = json_object_get(json_object_get(c->st, "packages"), pkg) != NULL;

	free(pkg);
	return ok;
}

int
tool_dkms(struct tool_ctx *c, int argc, char **argv)
{
	json_t *dkms = json_object_get(c->st, "dkms");
	const char *k, *kernel = arg_val(argc, argv, "-k");
	json_t *v;

	if (argc > 1 && !strcmp(argv[1], "status")) {
		json_object_foreach(dkms, k, v)
			printf("nvidia/%s, %s, x86_64: installed\n", json_string_value(v), k);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "autoinstall")) {
		kernel = kernel ? kernel : jstr(c->st, "kernel");
		if (!has_headers(c, kernel)) {
			fprintf(stderr, "Error! Your kernel headers for kernel %s cannot be found at "
					"/lib/modules/%s/build or /lib/modules/%s/source.\n", kernel, kernel,
				kernel);
			return 1;
		}
		if (jtrue(c->st, "dkms_broken")) {
			printf("Building module:\nCleaning build area...\nmake -j2 KERNELRELEASE=%s...(bad "
			       "exit status: 2)\nError! Bad return status for module build on kernel: %s "
			       "(x86_64)\nConsult /var/lib/dkms/nvidia/%s/build/make.log for more "
			       "information.\n", kernel, kernel, jstr(c->st, "driver"));
			return 10;
		}
		jset_str(dkms, kernel, jstr(c->st, "driver"));
		c->dirty = true;
		printf("Sign command: /lib/modules/%s/build/scripts/sign-file\nBuilding module:\n"
		       "Cleaning build area...\nmake -j2 KERNELRELEASE=%s...........\nnvidia.ko:\n"
		       "Installation\n - Installing to /lib/modules/%s/updates/dkms/\ndepmod...\n",
		       kernel, kernel, kernel);
		return 0;
	}
	return tool_usage(c, "the lab simulates 'dkms status' and 'dkms autoinstall [-k KERNEL]'");
}

int
tool_uname(struct tool_ctx *c, int argc, char **argv)
{
	if (arg_has(argc, argv, "-r"))
		printf("%s\n", jstr(c->st, "kernel"));
	else if (arg_has(argc, argv, "-n"))
		printf("%s\n", c->node);
	else
		printf("Linux\n");
	return 0;
}

int
tool_mokutil(struct tool_ctx *c, int argc, char **argv)
{
	if (!arg_has(argc, argv, "--sb-state"))
		return tool_usage(c, "the lab simulates 'mokutil --sb-state'");
	printf("SecureBoot %s\n", jtrue(c->st, "secure_boot") ? "enabled" : "disabled");
	return 0;
}

/* ---- packages ------------------------------------------------------------------------- */

static bool
repo_has(struct tool_ctx *c, const char *pkg, const char *ver)
{
	json_t *vers = json_object_get(json_object_get(c->st, "repo"), pkg);

	return vers && (!ver || in_list(vers, ver));
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
		/* The libraries change now; DKMS builds the module now; it loads at the next boot. */
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
			if (!in_list(held, argv[k]))
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

/* Debian's 10_linux titles "Debian GNU/Linux"; Ubuntu patches it to plain "Ubuntu". */
void
lab_grub_names(json_t *st, const char **os, const char **submenu)
{
	bool ubuntu = !strcmp(jstr(st, "distro"), "Ubuntu");

	*os = ubuntu ? "Ubuntu" : "Debian GNU/Linux";
	*submenu = ubuntu ? "Advanced options for Ubuntu" : "Advanced options for Debian GNU/Linux";
}

const char *
lab_grub_default(json_t *st)
{
	const char *best = NULL, *k;
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(st, "kernels"), i, v) {
		k = json_string_value(v);
		if (!best || strverscmp(k, best) > 0)
			best = k;
	}
	return best ? best : jstr(st, "kernel");
}

const char *
lab_grub_entry_kernel(json_t *st, const char *entry)
{
	const char *os, *sub, *k;
	json_t *v;
	size_t i;

	if (!entry || !*entry)
		return NULL;
	lab_grub_names(st, &os, &sub);
	json_array_foreach(json_object_get(st, "kernels"), i, v) {
		char *title, *id;
		bool hit;
		k = json_string_value(v);
		title = xasprintf("%s>%s, with Linux %s", sub, os, k);
		id = xasprintf("gnulinux-advanced-%s>gnulinux-%s-advanced-%s", LAB_GRUB_UUID, k, LAB_GRUB_UUID);
		hit = !strcmp(entry, title) || !strcmp(entry, id);
		free(title);
		free(id);
		if (hit)
			return k;
	}
	return NULL;
}

/* grub-reboot ENTRY writes next_entry to the environment block and checks nothing:
 * a name GRUB cannot find shows only at the boot, which takes the default entry. */
int
tool_grub_reboot(struct tool_ctx *c, int argc, char **argv)
{
	const char *entry = argc > 1 ? argv[argc - 1] : NULL;

	if (!entry || !*entry || entry[0] == '-')
		return tool_usage(c, "grub-reboot MENU_ENTRY");
	jset_str(c->st, "next_entry", entry);
	c->dirty = true;
	return 0;
}

/*
 * grub-mkconfig without -o: the menu on stdout, as Debian 12's /etc/grub.d/10_linux
 * writes it (tests/fixtures/real/grub-mkconfig-10_linux.debian12.cfg), newest kernel
 * first; the header scripts' part and the entries' bodies beyond linux/initrd left out.
 */
int
tool_grub_mkconfig(struct tool_ctx *c, int argc, char **argv)
{
	const char *os, *sub, *cls, *order[8];
	json_t *v;
	size_t i, n = 0, a, b;

	if (arg_val(argc, argv, "-o"))
		return tool_usage(c, "grub-mkconfig (the lab prints the menu; it writes no grub.cfg)");
	json_array_foreach(json_object_get(c->st, "kernels"), i, v)
		if (n < 8)
			order[n++] = json_string_value(v);
	for (a = 1; a < n; a++) /* newest first, as 10_linux sorts them */
		for (b = a; b > 0 && strverscmp(order[b], order[b - 1]) > 0; b--) {
			const char *t = order[b];
			order[b] = order[b - 1];
			order[b - 1] = t;
		}
	lab_grub_names(c->st, &os, &sub);
	cls = strcmp(jstr(c->st, "distro"), "Ubuntu") ? "debian" : "ubuntu";
	fprintf(stderr, "Generating grub configuration file ...\n");
	printf("### BEGIN /etc/grub.d/10_linux ###\n");
	printf("menuentry '%s' --class %s --class gnu-linux --class gnu --class os "
	       "$menuentry_id_option 'gnulinux-simple-%s' {\n\tlinux\t/boot/vmlinuz-%s root=/dev/sda2 ro  "
	       "quiet\n}\n", os, cls, LAB_GRUB_UUID, n ? order[0] : "");
	printf("submenu '%s' $menuentry_id_option 'gnulinux-advanced-%s' {\n", sub, LAB_GRUB_UUID);
	for (i = 0; i < n; i++) {
		fprintf(stderr, "Found linux image: /boot/vmlinuz-%s\n", order[i]);
		printf("\tmenuentry '%s, with Linux %s' --class %s --class gnu-linux --class gnu --class os "
		       "$menuentry_id_option 'gnulinux-%s-advanced-%s' {\n\t\tlinux\t/boot/vmlinuz-%s "
		       "root=/dev/sda2 ro  quiet\n\t}\n", os, order[i], cls, order[i], LAB_GRUB_UUID, order[i]);
		printf("\tmenuentry '%s, with Linux %s (recovery mode)' --class %s --class gnu-linux "
		       "--class gnu --class os $menuentry_id_option 'gnulinux-%s-recovery-%s' {\n\t\tlinux\t"
		       "/boot/vmlinuz-%s root=/dev/sda2 ro single\n\t}\n", os, order[i], cls, order[i],
		       LAB_GRUB_UUID, order[i]);
	}
	printf("}\n\n### END /etc/grub.d/10_linux ###\n");
	fprintf(stderr, "done\n");
	return 0;
}
