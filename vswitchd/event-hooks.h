/* Event hooks: the executables in a directory, run by vswitchd for each
 * event with the event's JSON on stdin; see event-hooks.c. */
#ifndef VSWITCHD_EVENT_HOOKS_H
#define VSWITCHD_EVENT_HOOKS_H 1

/* Runs the hooks in 'dir' (NULL: none), each killed after 'timeout_s'. */
void event_hooks_init(const char *dir, int timeout_s);
/* Queues event 'event' (its JSON 'json') for every hook. */
void event_hooks_submit(const char *event, const char *json);
void event_hooks_run(void);
void event_hooks_wait(void);
void event_hooks_exit(void);

#endif /* vswitchd/event-hooks.h */
