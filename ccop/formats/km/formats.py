# Numbers as the portal writes money in Khmer (see ccop/money.py NUMBER_FORMATS): Django's own
# Khmer format (1.234,56) would put another form next to ours in forms and the admin. Dates and
# times keep Django's Khmer formats.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
