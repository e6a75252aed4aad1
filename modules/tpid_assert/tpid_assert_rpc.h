/*
 * tpid_assert - Kamailio glue: RPC commands (kamcmd / kamcli)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_RPC_H
#define TPID_ASSERT_RPC_H

int tpid_rpc_register(void);

#endif
