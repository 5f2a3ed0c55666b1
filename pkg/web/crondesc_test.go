package web

import "testing"

func TestDescribeCron(t *testing.T) {
	cases := []struct{ expr, tz, want string }{
		{"0 2 * * *", "Europe/Berlin", "at 02:00 every day, Europe/Berlin"},
		{"*/15 * * * *", "UTC", "every 15 minutes"},
		{"* * * * *", "Europe/Berlin", "every minute"},
		{"30 9 * * 1-5", "UTC", "at 09:30 on Monday to Friday, UTC"},
		{"30 9 * * MON-FRI", "UTC", "at 09:30 on Monday to Friday, UTC"},
		{"5 * * * *", "UTC", "at minute 5 past every hour, UTC"},
		{"0,30 * * * *", "Asia/Kolkata", "at minutes 0 and 30 past every hour, Asia/Kolkata"},
		{"0 0 1 * *", "UTC", "at 00:00 on day 1 of the month, UTC"},
		{"0 0 1,15 * *", "UTC", "at 00:00 on days 1 and 15 of the month, UTC"},
		{"0 6 1-7 * *", "UTC", "at 06:00 on days 1 to 7 of the month, UTC"},
		{"0 9,17 * * *", "UTC", "at 09:00 and 17:00 every day, UTC"},
		{"0,30 9,17 * * *", "", "at 09:00, 09:30, 17:00 and 17:30 every day, UTC"},
		{"0 0 * * 0", "UTC", "at 00:00 on Sunday, UTC"},
		{"0 0 * * 1,3,5", "UTC", "at 00:00 on Monday, Wednesday and Friday, UTC"},
		{"0 12 * 1,7 *", "UTC", "at 12:00 every day in January and July, UTC"},
		{"0 12 1 jan *", "UTC", "at 12:00 on day 1 of the month, in January, UTC"},
		{"0 0 13 * 5", "UTC", "at 00:00 on day 13 of the month or on Friday, UTC"},
		{"*/15 9-17 * * *", "UTC", "every 15 minutes between 09:00 and 17:59, UTC"},
		{"*/10 * * * *", "UTC", "every 10 minutes, UTC"},
		{"0 * * * *", "Asia/Kolkata", "every hour, on the hour, Asia/Kolkata"},
		{"0 */2 * * *", "UTC", "every 2 hours, on the hour, UTC"},
		{"10-20 3 * * *", "UTC", "every minute from 10 through 20 past hour 3, UTC"},
		{"5 1-5/2 * * *", "UTC", "at minute 5 past every 2nd hour from 1 through 5, UTC"},
		{"0 0 * 3-5 *", "UTC", "at 00:00 every day in March to May, UTC"},
		{"@daily", "Europe/Berlin", "at 00:00 every day, Europe/Berlin"},
		{"@midnight", "UTC", "at 00:00 every day, UTC"},
		{"@hourly", "UTC", "every hour, on the hour, UTC"},
		{"@weekly", "UTC", "at 00:00 on Sunday, UTC"},
		{"@monthly", "UTC", "at 00:00 on day 1 of the month, UTC"},
		{"@yearly", "UTC", "at 00:00 on day 1 of the month, in January, UTC"},
		{"@every 5m", "UTC", "every 5 minutes"},
		{"@every 1h", "UTC", "every hour"},
		{"@every 90m", "UTC", "every 90 minutes"},
		{"@every 1h30m15s", "UTC", "every 5415 seconds"},
		// Shapes it does not say fall back to the expression.
		{"61 * * * *", "UTC", "61 * * * *"},
		{"* * *", "UTC", "* * *"},
		{"@every soon", "UTC", "@every soon"},
		{"0 0 * * 7", "UTC", "0 0 * * 7"},
	}
	for _, c := range cases {
		if got := describeCron(c.expr, c.tz); got != c.want {
			t.Errorf("describeCron(%q, %q) = %q, want %q", c.expr, c.tz, got, c.want)
		}
	}
}
