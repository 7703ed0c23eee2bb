"""Words she and staff read: gettext catalogs, rendering, typed words, the survey file.

No I/O beyond reading the packaged catalogs and survey.
"""
