/* systemd's readiness protocol (sd_notify(3)) without libsystemd: a
 * datagram to $NOTIFY_SOCKET.  See sd-notify.c. */
#ifndef VSWITCHD_SD_NOTIFY_H
#define VSWITCHD_SD_NOTIFY_H 1

/* Sends 'state' ("READY=1", "STOPPING=1", "STATUS=...") to the service
 * manager, if one asked for it ($NOTIFY_SOCKET); a no-op otherwise. */
void vsw_sd_notify(const char *state);

#endif /* vswitchd/sd-notify.h */
