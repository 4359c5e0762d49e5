"""Account security: two-factor login (django-otp), login throttling (django-axes).

- `two_factor`: who must use a second factor, setting it up, checking a code, backup codes;
- `middleware`: the one place that keeps an unverified session out of everything else;
- `views`, `forms`, `urls`: the pages under /accounts/two-factor/;
- `throttling`: the client address and the lockout page for django-axes.
"""
