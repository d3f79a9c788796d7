"""Arabic date and time formats that Django does not define itself.

Django's Arabic locale has a date format but no date-and-time ones, so a
date with its time fell back to the American "11/25/2026 3:05 p.m." beside
Arabic dates written day first. These follow the Arabic date format: day,
month, year, with the right-to-left marks Django's SHORT_DATE_FORMAT uses.
"""

DATETIME_FORMAT = "j F، Y، g:i A"
SHORT_DATETIME_FORMAT = "d\u200f/m\u200f/Y g:i A"
