#!/bin/sh
# Stands in for the unit tests when configure did not find Check: fail loudly.
echo "The unit tests need Check: apt-get install check, then re-run configure." >&2
exit 1
