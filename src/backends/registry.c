/* registry.c - the name -> constructor tables of transports and schedulers: the
 * built-in rows here, more added by cli/ at start-up (registry_add_*). */
#include "backends/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/remote.h"

#define REGISTRY_MAX 16

static struct transport *
ssh_node_new(const struct backend_ctx *c, struct rbx_err *err)
{
	(void)err;
	return remote_transport_new(c->conf, true, c->accept_new_host_key);
}

static struct transport *
ssh_exec_node_new(const struct backend_ctx *c, struct rbx_err *err)
{
	(void)err;
	return remote_transport_new(c->conf, false, c->accept_new_host_key);
}

static struct transport *
local_new(const struct backend_ctx *c, struct rbx_err *err)
{
	(void)c;
	(void)err;
	return transport_local_new();
}

static const struct transport_entry builtin_transports[] = {
	{"ssh", 0, "slurm", ssh_node_new, local_new, NULL, NULL, NULL},
	{"ssh-exec", 0, "slurm", ssh_exec_node_new, local_new, NULL, NULL, NULL},
};

static struct sched *
slurm_open(const struct backend_ctx *c, struct rbx_err *err)
{
	(void)err;
	return sched_slurm_new(c->sched_node);
}

static struct sched *
k8s_open(const struct backend_ctx *c, struct rbx_err *err)
{
	return sched_k8s_new(c->sched_node, c->conf->kubeconfig, err);
}

static struct sched *
command_open(const struct backend_ctx *c, struct rbx_err *err)
{
	(void)err;
	return sched_command_new(c->sched_node, c->conf->cordon_command, c->conf->drain_command,
				 c->conf->uncordon_command, c->conf->state_command);
}

static struct sched *
file_open(const struct backend_ctx *c, struct rbx_err *err)
{
	return sched_file_new(c->state_dir, c->sched_node, err);
}

static const struct sched_entry builtin_scheds[] = {
	{"slurm", slurm_open},
	{"kubernetes", k8s_open},
	{"command", command_open},
	{"file", file_open},
};

/* The rows in lookup order: the built-in ones first, then those added at start-up. */
static const struct transport_entry *transports[REGISTRY_MAX] = {
	&builtin_transports[0],
	&builtin_transports[1],
};
static const struct sched_entry *scheds[REGISTRY_MAX] = {
	&builtin_scheds[0], &builtin_scheds[1], &builtin_scheds[2], &builtin_scheds[3],
};
static size_t n_transports = 2, n_scheds = 4;
_Static_assert(sizeof(builtin_transports) / sizeof(builtin_transports[0]) == 2,
	       "list every built-in transport in transports[] and n_transports");
_Static_assert(sizeof(builtin_scheds) / sizeof(builtin_scheds[0]) == 4,
	       "list every built-in scheduler in scheds[] and n_scheds");

const struct transport_entry *
registry_transport(const char *name)
{
	size_t i;

	for (i = 0; name && i < n_transports; i++)
		if (!strcmp(transports[i]->name, name))
			return transports[i];
	return NULL;
}

const struct sched_entry *
registry_sched(const char *name)
{
	size_t i;

	for (i = 0; name && i < n_scheds; i++)
		if (!strcmp(scheds[i]->name, name))
			return scheds[i];
	return NULL;
}

void
registry_add_transport(const struct transport_entry *e)
{
	if (n_transports < REGISTRY_MAX && !registry_transport(e->name))
		transports[n_transports++] = e;
}

void
registry_add_sched(const struct sched_entry *e)
{
	if (n_scheds < REGISTRY_MAX && !registry_sched(e->name))
		scheds[n_scheds++] = e;
}

void
registry_names(bool want_transports, char *out, size_t n)
{
	size_t i, count = want_transports ? n_transports : n_scheds, len;

	out[0] = 0;
	for (i = 0; i < count; i++) {
		len = strlen(out);
		snprintf(out + len, n - len, "%s%s", i ? ", " : "",
			 want_transports ? transports[i]->name : scheds[i]->name);
	}
}

void
node_conf_release(struct node_conf *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->transport);
	free(c->host);
	free(c->user);
	free(c->identity);
	free(c->known_hosts);
	free(c->jump);
	free(c->boot_id_command);
	free(c->scheduler);
	free(c->reboot_command);
	free(c->kubeconfig);
	free(c->cordon_command);
	free(c->drain_command);
	free(c->uncordon_command);
	free(c->state_command);
	strmap_release(&c->labels);
	fleet_conf_release(&c->fleet);
	am_conf_release(&c->alertmanager);
	memset(c, 0, sizeof(*c));
}
