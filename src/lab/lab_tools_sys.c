/* lab_tools_sys.c - the lab's system tools: services, kernel modules, DKMS, packages,
 * boot entries (packages: lab_tools_apt.c). They change the simulated node, never the machine they run on. */
#define _GNU_SOURCE
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
			if (lab_in_list(json_object_get(c->st, "broken_services"), u) || fm_mismatch) {
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
		lab_gsp_check(c->st);
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
