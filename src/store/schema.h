/*
 * schema.h - the core schema's migration steps (schema.c), for store.c
 * only: it runs them at open, and hands them to store_pg.c on PostgreSQL.
 * Everyone else asks store_schema_version() (store.h).
 */
#ifndef MARKETBOX_SCHEMA_H
#define MARKETBOX_SCHEMA_H

#include <stddef.h>

#include "store/store.h"

/* The steps, in order, append only; store_core_nmigrations of them. */
extern const struct store_migration	store_core_migrations[];
extern const size_t			store_core_nmigrations;

#endif
