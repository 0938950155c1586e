/*
 * test_log.c - log.c: the flood limit on repeated lines.  Lines go to a
 * log file at debug level; the windows are measured on a clock the test
 * moves.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gw.h"

#include "base/log.h"

static char	 file[] = "/tmp/test_log_XXXXXX";
static time_t	 now = 1000000;

static time_t
t_clock(void)
{
	return now;
}

static void
setup(void)
{
	int	 fd;

	gwlib_init();
	cr_assert_geq(fd = mkstemp(file), 0);
	close(fd);
	cr_assert_eq(log_setup(GW_PANIC, file, GW_DEBUG), 0);
	log_set_debug_places("*");
	log_set_clock(t_clock);
}

static void
teardown(void)
{
	log_set_clock(NULL);
	log_close_all();
	unlink(file);
	gwlib_shutdown();
}

/* Lines of the log file that contain s. */
static int
t_lines(const char *s)
{
	FILE	*f;
	char	 line[8192];
	int	 n = 0;

	cr_assert_not_null(f = fopen(file, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	fclose(f);
	return n;
}

/* The count in the "repeated" line about s, or -1. */
static long
t_repeated(const char *s)
{
	FILE	*f;
	char	 line[8192], *p;
	long	 n = -1;

	cr_assert_not_null(f = fopen(file, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if ((p = strstr(line, "last message repeated ")) != NULL &&
		    strstr(p, s) != NULL)
			n = strtol(p + strlen("last message repeated "), NULL,
			    10);
	fclose(f);
	return n;
}

TestSuite(log, .init = setup, .fini = teardown, .timeout = 30);

Test(log, a_flood_of_one_line_is_held_back_and_counted)
{
	int	 i;

	for (i = 0; i < 100000; i++)
		warning(0, "http: accept failed on fd %d", 7);
	cr_assert_eq(t_lines("accept failed on fd 7"), LOG_REPEAT_BURST);
	cr_assert_eq(t_repeated("accept failed"), -1, "no summary yet");

	/* The window over, the next line brings the summary. */
	now += LOG_REPEAT_WINDOW;
	info(0, "something else");
	cr_assert_eq(t_repeated("accept failed on fd 7"),
	    100000 - LOG_REPEAT_BURST);
	cr_assert_eq(t_lines("something else"), 1);

	/* And the line is printed again in the new window. */
	warning(0, "http: accept failed on fd %d", 7);
	cr_assert_eq(t_lines("http: accept failed on fd 7"),
	    LOG_REPEAT_BURST + 2, "the burst, the summary, the new one");
}

Test(log, every_level_and_errno_is_limited)
{
	int	 i;

	for (i = 0; i < 50; i++) {
		error(0, "flood E");
		error(5, "flood E");	/* another errno: another line */
		info(0, "flood I");
		debug("mb.test", 0, "flood D");
	}
	cr_assert_eq(t_lines("flood E"), 2 * LOG_REPEAT_BURST);
	cr_assert_eq(t_lines("flood I"), LOG_REPEAT_BURST);
	cr_assert_eq(t_lines("flood D"), LOG_REPEAT_BURST);
	log_flush_repeats();
	cr_assert_eq(t_repeated("flood I"), 50 - LOG_REPEAT_BURST);
	cr_assert_eq(t_repeated("flood D"), 50 - LOG_REPEAT_BURST);
}

Test(log, different_lines_are_all_printed)
{
	int	 i;

	for (i = 0; i < 500; i++)
		info(0, "order %d stored", i);
	cr_assert_eq(t_lines(" stored"), 500);
	cr_assert_eq(t_lines("repeated"), 0);
}

Test(log, many_different_lines_do_not_lose_a_count)
{
	int	 i;

	/* A flood, then more different lines than there are slots: the
	 * flood's slot is reused and its summary written first. */
	for (i = 0; i < 20; i++)
		warning(0, "the flood");
	for (i = 0; i < 10 * LOG_REPEAT_SLOTS; i++)
		info(0, "line %d", i);
	cr_assert_eq(t_repeated("the flood"), 20 - LOG_REPEAT_BURST);
	cr_assert_eq(t_lines("the flood"), LOG_REPEAT_BURST + 1);
}

Test(log, a_clock_going_back_ends_the_window)
{
	int	 i;

	for (i = 0; i < 10; i++)
		warning(0, "tick");
	now -= 3600;
	warning(0, "tick");
	cr_assert_eq(t_repeated("tick"), 10 - LOG_REPEAT_BURST);
	cr_assert_eq(t_lines("tick"), LOG_REPEAT_BURST + 2);
}

Test(log, a_long_line_is_printed_whole_and_limited)
{
	char	 big[3000];
	int	 i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 10; i++)
		warning(0, "long %s end", big);
	cr_assert_eq(t_lines("x end"), LOG_REPEAT_BURST);
}

/*
 * A line handed over formatted ("%s", as the host passes a plugin's) is
 * printed and limited as any other, and cut where a formatted one is:
 * after LOG_LINE_MAX - 1 bytes (4095).
 */
Test(log, a_preformatted_line_is_limited_and_cut_alike)
{
	static char	 huge[5000];
	int		 i;

	for (i = 0; i < 10; i++)
		info(0, "%s", "plugin: order 41 made");
	cr_assert_eq(t_lines("plugin: order 41 made"), LOG_REPEAT_BURST);
	now += LOG_REPEAT_WINDOW;
	info(0, "another line");
	cr_assert_eq(t_repeated("plugin: order 41 made"), 10 - LOG_REPEAT_BURST);

	/* bytes 4093 and 4094 are the last printed */
	memset(huge, 'y', sizeof(huge) - 1);
	memcpy(huge + 4093, "ABCD", 4);
	info(0, "%s", huge);
	info(0, "%.4999s", huge);
	cr_assert_eq(t_lines("yAB\n"), 2);
	cr_assert_eq(t_lines("ABC"), 0);
}
