"""Word tables the rules read: names of months, days, units, currencies, abbreviations, and the context words
that decide between readings."""
from __future__ import annotations

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


MONTH_ABBREVIATIONS = {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}


WEEKDAY_NAMES = {day[:length].lower(): day for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                                         "Saturday", "Sunday") for length in (3, len(day))} | {
    "tues": "Tuesday", "thur": "Thursday", "thurs": "Thursday"}


WEEKDAYS = set(WEEKDAY_NAMES)


CURRENCIES = {  # symbol: (singular, plural, cent singular, cent plural); cents themselves have no smaller unit
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "sen", "sen"),
    "¢": ("cent", "cents", None, None),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
DOLLAR_COUNTRIES = {"US": "U S", "C": "Canadian", "A": "Australian", "NZ": "New Zealand", "HK": "Hong Kong",
                    "S": "Singapore"}  # "C$100": one hundred Canadian dollars


SCALES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion", "t": "trillion"} | {
    word: word for word in ("thousand", "million", "billion", "trillion")}


UNITS = {
    "km/h": "kilometers per hour", "mph": "miles per hour", "km": "kilometers", "cm": "centimeters",
    "mm": "millimeters", "m": "meters", "mi": "miles", "ft": "feet", "kg": "kilograms", "g": "grams",
    "mg": "milligrams", "lb": "pounds", "lbs": "pounds", "oz": "ounces", "ml": "milliliters", "l": "liters",
    "°c": "degrees Celsius", "°f": "degrees Fahrenheit", "°": "degrees", "kb": "kilobytes", "mb": "megabytes",
    "gb": "gigabytes", "tb": "terabytes", "hz": "hertz", "khz": "kilohertz", "mhz": "megahertz",
    "ghz": "gigahertz", "kw": "kilowatts", "kwh": "kilowatt hours", "w": "watts", "v": "volts", "ms": "milliseconds",
    "s": "seconds", "sec": "seconds", "min": "minutes", "h": "hours", "hr": "hours", "hrs": "hours",
    "tbsp": "tablespoons", "tsp": "teaspoons", "gal": "gallons", "yd": "yards", "fps": "frames per second",
    "rpm": "revolutions per minute", "kbps": "kilobits per second", "mbps": "megabits per second",
    "gbps": "gigabits per second", "mah": "milliamp hours",
    "mcg": "micrograms", "µg": "micrograms", "μg": "micrograms", "fl oz": "fluid ounces", "qt": "quarts",
    "cl": "centiliters", "pb": "petabytes", "kib": "kibibytes", "mib": "mebibytes", "gib": "gibibytes",
    "tib": "tebibytes", "kbit/s": "kilobits per second", "mbit/s": "megabits per second",
    "gbit/s": "gigabits per second", "kph": "kilometers per hour", "m/s": "meters per second",
    "km/s": "kilometers per second", "ft/s": "feet per second", "m/s²": "meters per second squared",
    "ha": "hectares", "nm": "nanometers", "µm": "micrometers", "μm": "micrometers", "kcal": "kilocalories",
    "psi": "P S I", "MW": "megawatts", "GW": "gigawatts", "mW": "milliwatts", "mA": "milliamps",
    "m²": "square meters", "m2": "square meters", "km²": "square kilometers", "km2": "square kilometers",
    "cm²": "square centimeters", "cm2": "square centimeters", "ft²": "square feet", "sq ft": "square feet",
    "sq mi": "square miles", "sq m": "square meters", "sq km": "square kilometers", "m³": "cubic meters",
    "m3": "cubic meters", "cm³": "cubic centimeters", "cm3": "cubic centimeters",
    "dpi": "dots per inch", "ppi": "pixels per inch", "µs": "microseconds", "μs": "microseconds", "db": "decibels",
    "bps": "basis points", "bp": "basis points", "iu": "international units", "mp": "megapixels", "in": "inches",
    "mins": "minutes", "mb/s": "megabytes per second", "gb/s": "gigabytes per second", "kb/s": "kilobytes per second",
    "pcs": "pieces", "tab": "tablets", "tabs": "tablets", "cal": "calories", "mmhg": "millimeters of mercury",
    "hp": "horsepower", "bhp": "brake horsepower", "lb-ft": "pound feet", "ft-lb": "foot pounds",
    "ft-lbs": "foot pounds", "yr": "years", "yrs": "years", "mos": "months", "wk": "weeks", "wks": "weeks",
    "kN": "kilonewtons", "MN": "meganewtons", "kPa": "kilopascals", "MPa": "megapascals", "GPa": "gigapascals",
}
# After a determiner and before a noun an amount is an adjective and its unit singular ("a 500 mg tablet",
# "the $50 card"); these words after it are no noun ("a 5 kg of", "the 3 km to").
DETERMINERS = {"a", "an", "the", "one", "each", "every", "this", "that", "any", "its", "their", "his", "her",
               "our", "your", "my", "single", "another", "whole"}
NOT_NOUNS = {"of", "in", "per", "each", "and", "or", "to", "for", "from", "at", "on", "with", "daily", "is", "are",
             "was", "were", "will", "be", "by", "than", "into", "over", "under", "as", "long", "tall", "wide", "high",
             "deep", "away", "ago", "later", "more", "less", "total", "apart", "left", "off", "up", "down", "a", "an",
             "the", "twice", "once", "every", "am", "pm", "only", "that", "which", "who", "we", "it", "you", "they",
             "i", "he", "she", "if", "so", "but", "then", "when", "while", "because", "before", "after", "still",
             "too", "also", "just", "ahead", "behind", "across", "around", "through", "along", "back", "out",
             "not", "no"}
INDEFINITE_ARTICLES = {"a", "an"}  # "a $3.2 million budget": a scaled decimal amount read as an adjective
# Units said as adjectives even without a determiner ("100 W bulb", "a 20 V drill" alike).
ADJECTIVE_UNITS = {"watts", "volts", "milliamps", "megapixels", "kilowatts"}


SINGULAR_UNITS = {"feet": "foot", "hertz": "hertz", "inches": "inch", "pound feet": "pound foot",
                  "foot pounds": "foot pound", "kilowatt hours": "kilowatt hour",
                  "milliamp hours": "milliamp hour", "basis points": "basis point", "international units":
                  "international unit", "dots per inch": "dots per inch", "pixels per inch": "pixels per inch"}


UNIT_QUALIFIERS = {"square", "cubic", "fluid"}  # "one square meter": the word after them is the unit


ABBREVIATIONS = {
    "dr.": "Doctor", "mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "prof.": "Professor", "sr.": "Senior",
    "jr.": "Junior", "st.": "Saint", "mt.": "Mount", "ave.": "Avenue", "blvd.": "Boulevard", "rd.": "Road",
    "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "vs.": "versus", "approx.": "approximately",
    "dept.": "department", "est.": "established", "inc.": "incorporated", "ltd.": "limited", "co.": "company",
    "gov.": "governor", "sen.": "senator", "rep.": "representative", "gen.": "general", "capt.": "captain",
    "lt.": "lieutenant", "sgt.": "sergeant", "no.": "number", "vol.": "volume", "fig.": "figure",
    "et al.": "and others", "cf.": "compare", "viz.": "namely", "ca.": "circa", "col.": "colonel",
    "rev.": "Reverend", "fr.": "Father", "hon.": "Honorable", "adm.": "admiral", "maj.": "major",
    "cpl.": "corporal", "pvt.": "private", "ft.": "Fort", "corp.": "Corporation", "bros.": "Brothers",
    "univ.": "University", "assn.": "Association", "ext.": "extension", "tel.": "telephone", "pp.": "pages",
    "min.": "minimum", "max.": "maximum", "apt.": "apartment", "ste.": "suite", "bldg.": "building", "tab.": "tablet",
    "incl.": "including", "excl.": "excluding", "esp.": "especially", "misc.": "miscellaneous",
    "yr.": "year", "yrs.": "years", "mos.": "months", "wk.": "week", "wks.": "weeks",
}
NUMBER_ABBREVIATIONS = {"no.", "apt.", "ste.", "bldg."}  # read only before a number: "Apt. 4B", but "That was apt."
# Of those, the ones also read before a lowercase word, where no sentence ends: "a spacious apt. near the park".
NOUN_ABBREVIATIONS = {"apt.", "bldg."}
# Things whose code "no." names though the code starts with letters: "part no. WF-3310" part number, "model no. X9".
CODE_NUMBER_NOUNS = {"part", "model", "item", "order", "serial", "catalog", "style", "lot", "product", "stock",
                     "ref", "reference", "article", "unit"}
# AP-style state abbreviations, read only after a city and a comma ("St. Petersburg, Fla."), where no word is meant.
STATES = {"Ala.": "Alabama", "Ariz.": "Arizona", "Ark.": "Arkansas", "Calif.": "California", "Colo.": "Colorado",
          "Conn.": "Connecticut", "Del.": "Delaware", "Fla.": "Florida", "Ga.": "Georgia", "Ill.": "Illinois",
          "Ind.": "Indiana", "Kan.": "Kansas", "Ky.": "Kentucky", "La.": "Louisiana", "Md.": "Maryland",
          "Mass.": "Massachusetts", "Mich.": "Michigan", "Minn.": "Minnesota", "Miss.": "Mississippi",
          "Mo.": "Missouri", "Mont.": "Montana", "Neb.": "Nebraska", "Nev.": "Nevada", "Okla.": "Oklahoma",
          "Ore.": "Oregon", "Pa.": "Pennsylvania", "Tenn.": "Tennessee", "Tex.": "Texas", "Vt.": "Vermont",
          "Va.": "Virginia", "Wash.": "Washington", "Wis.": "Wisconsin", "Wyo.": "Wyoming"}
# Written forms read as the words they stand for, case as written.
EXPANSIONS = {"YoY": "year over year", "YTD": "year to date", "QoQ": "quarter over quarter", "MoM": "month over month",
              "Qty": "quantity"}


TITLE_OR_PLACE = {"dr.": ("Doctor", "Drive"), "st.": ("Saint", "Street")}  # "Dr. Lee" / "Elm Dr."
# Words naming a place, a street or a mountain before a saint's name: after them "St." and "Dr." are titles, since
# no street is named "Rue Street" ("Rue St. Honoré", "Mount St. Helens", "Port St. Lucie", "Lake St. Clair").
PLACE_BEFORE_NAME = {"rue", "avenue", "boulevard", "place", "quai", "via", "mount", "mt.", "port", "fort", "ft.",
                     "lake", "cape", "point", "pointe", "isle", "lac", "sault", "bay", "île", "cap", "san"}


# After a number, "200 ms." and "3 ft." are units, not Miz or Fort.
UNIT_ABBREVIATIONS = {"ms.", "ft.", "min.", "tab.", "yr.", "yrs.", "mos.", "wk.", "wks."}


SENTENCE_FINAL_ABBREVIATIONS = {"etc.", "inc.", "ltd.", "co.", "jr.", "sr.", "ave.", "blvd.", "rd.", "dept.",
                                "et al.", "corp.", "univ.", "assn.", "min.", "tab."}  # "Stir for 2 min. Serve."


SPELLED_ACRONYMS = {"FBI", "CIA", "USA", "UK", "EU", "UN", "API", "CPU", "GPU", "URL", "HTTP", "HTTPS", "HTML", "CSS",
                    "PDF", "TTS", "AI", "ML", "CEO", "CTO", "DIY", "FAQ", "ID", "TV", "PC", "BBC", "CNN", "IBM",
                    "SQL", "USB", "DNA", "IT", "HR", "PR", "VIP", "ATM", "SUV", "BMW", "NYC", "LA", "DC", "AWS",
                    "NBA", "IRS", "FDA", "UFO", "SEC", "EPA", "MBA", "ICU", "IOU", "IQ", "UV", "EV", "ETA", "OS",
                    "AD", "BCE", "CE", "UAE", "USSR", "UCLA", "MIT", "NYU", "ESPN", "ASAP", "WHO", "LED", "HDMI", "EPS",
                    "APR", "APY", "ERA", "SKU", "EXP", "ISBN", "CVE", "OLED", "IU"}


VOWELS = set("AEIOUY")  # an all-capital word without one cannot be read as a word, so it is spelled ("NFL")
# Nor can one that starts or ends with two consonants no English word starts or ends with ("COPD", "MRI", "ECB");
# these pairs can ("NASA", "SWAT", "AIDS", "WORLD").
WORD_ONSETS = {"BL", "BR", "CH", "CL", "CR", "DR", "DW", "FL", "FR", "GH", "GL", "GN", "GR", "KL", "KN", "KR", "PH",
               "PL", "PR", "SC", "SH", "SK", "SL", "SM", "SN", "SP", "SQ", "ST", "SW", "TH", "TR", "TW", "WH", "WR"}
WORD_CODAS = {"BB", "BS", "CH", "CK", "CT", "DD", "DS", "FF", "FT", "GG", "GH", "GN", "GS", "HT", "KS", "LB", "LD",
              "LF", "LK", "LL", "LM", "LP", "LS", "LT", "MB", "MN", "MP", "MS", "ND", "NG", "NK", "NN", "NS", "NT",
              "NX", "NZ", "PH", "PS", "PT", "RB", "RC", "RD", "RF", "RG", "RK", "RL", "RM", "RN", "RP", "RR", "RS",
              "RT", "SH", "SK", "SM", "SP", "SS", "ST", "TH", "TS", "TT", "TZ", "WD", "WL", "WN", "WS", "WT", "XT",
              "ZZ"}
# Three capitals, a vowel, a consonant and a vowel other than a silent e, are spelled as initialisms are ("IPO",
# "UFO", "EPA"); but these are words.
CAPITAL_WORDS = {"AGO", "EGO", "ADO", "AHA", "OHO", "UNO", "AVA", "EMO", "ECO", "OVA"}


# Short labels of a web or e-mail address said letter by letter though they have a vowel ("acme.io": dot i o); the
# rest of the short labels are spelled as acronyms are: known initialisms ("bbc", "uk") and those without a vowel.
SPELLED_DOMAIN_LABELS = {"io", "us"}
# Two-letter country codes that are no English word, spelled wherever they stand in an address ("jobs-uk@", "fr.").
COUNTRY_LABELS = {"uk", "eu", "de", "fr", "es", "nz", "au", "ca", "jp", "cn", "ie", "nl", "se", "ch", "za", "sg", "hk",
                  "br", "mx", "ru", "kr", "dk", "fi", "pl", "pt", "cz", "gr", "tr", "ae", "sa", "fm", "tv", "ly"}
# Short lowercase words without a vowel that are said as words or stand for one ("hmm", "vs", "nth"); the rest,
# units aside, are names said letter by letter ("the xz library", "run npm", "use ssh").
LOWERCASE_WORDS = {"hm", "hmm", "mm", "mmm", "shh", "sh", "psst", "pst", "pfft", "tsk", "grr", "brr", "zzz", "nth",
                   "cwm", "vs", "mr", "mrs", "dr", "jr", "sr", "st", "nd", "rd", "th", "pls", "plz", "thx", "wk", "pt"}
# Known initialisms that are English words too: inside a tag or handle, lowercase, they are the word ("#who_cares").
ACRONYMS_THAT_ARE_WORDS = {"it", "who", "led", "era", "ad", "id", "eta"}


# Zones said by name, as written (EST is eastern standard time even in July); UTC and GMT are said as letters.
TIME_ZONE_NAMES = {
    "EST": "eastern standard time", "EDT": "eastern daylight time", "CST": "central standard time",
    "CDT": "central daylight time", "MST": "mountain standard time", "MDT": "mountain daylight time",
    "PST": "pacific standard time", "PDT": "pacific daylight time", "AKST": "Alaska standard time",
    "HST": "Hawaii standard time", "ET": "eastern time", "CT": "central time", "MT": "mountain time",
    "PT": "pacific time", "CET": "central European time", "CEST": "central European summer time",
    "BST": "British summer time", "IST": "India standard time", "JST": "Japan standard time",
    "AEST": "Australian eastern standard time", "AEDT": "Australian eastern daylight time"}
TIME_ZONES = "|".join(sorted([*TIME_ZONE_NAMES, "UTC", "GMT"], key=len, reverse=True))


SYMBOLS = {"&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "%": " percent", "#": " number ",
           "©": " copyright ", "★": " star ", "×": " times ", "÷": " divided by ", "±": " plus or minus ",
           "−": " minus ", "≈": " approximately ", "≠": " not equal to ", "≤": " less than or equal to ",
           "≥": " greater than or equal to ", "√": " the square root of "}
# Keys as they are said; the first always, the rest in a combination ("Ctrl+Alt+Del"), after "press" ("Hit Esc")
# or before "key" ("the Esc key"), since "Del Mar" and "Opt in" are no keys.
KEY_NAMES = {"Ctrl": "control", "Cmd": "command", "Esc": "escape", "Del": "delete", "Opt": "option",
             "PgUp": "page up", "PgDn": "page down", "Ins": "insert", "Fn": "function"}
ALWAYS_KEYS = {"Ctrl", "Cmd", "PgUp", "PgDn"}
KEY_VERBS = {"press", "hit", "tap", "hold", "pressing", "hitting", "holding", "then", "or", "and"}


COMPARISONS = {"<": " less than ", ">": " greater than ", "*": " times "}  # only between spaces: "5 < 7"
# The keys of a phone's keypad, said so after a verb that presses them ("Press * then #", "dial #"), or before "key".
KEYPAD_SYMBOLS = {"*": "star", "#": "pound"}
KEYPAD_VERBS = {"press", "dial", "hit", "tap", "enter", "push", "type", "pressing", "dialing", "hitting", "tapping"}
KEYPAD_JOINERS = {"then", "or", "and", "followed", "by"}  # "press 1 or *": a key after another pressed
# Signs of a legal text's divisions, said as the words ("§ 12(b)" section twelve b, "§§ 4-6" sections four to six).
SECTION_SIGNS = {"§": "section", "§§": "sections", "¶": "paragraph", "¶¶": "paragraphs"}
SUPERSCRIPTS = {"²": "squared", "³": "cubed"} | {digit: f"to the {ordinal}" for digit, ordinal in zip(
    "⁰¹⁴⁵⁶⁷⁸⁹", ("zeroth", "first", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"), strict=True)}


GREEK_LETTERS = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "Δ": "delta", "ε": "epsilon", "θ": "theta",
                 "λ": "lambda", "π": "pi", "ρ": "rho", "σ": "sigma", "Σ": "sigma", "τ": "tau", "φ": "phi", "ω": "omega",
                 "Ω": "omega"}  # not µ/μ: micro, read with its unit ("5 μg")
# A number joined to one of these letters is a term of an equation beside a sign ("3x + 5 = 20": three x); units
# of one letter (m, g, s, h, l), scales (k) and pence or hours (p) are left out, and "3x" alone is three times.
VARIABLES = "abcnqrtxyz"
POWERS = {2: "squared", 3: "cubed"}


DIGIT_WORDS = "zero one two three four five six seven eight nine".split()


FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}


FRACTION_GLYPHS = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8",
                   "⅞": "7/8"}


FRACTION_IDIOMS = {"24/7": "twenty-four seven", "9/11": "nine eleven", "50/50": "fifty-fifty",
                   "20/20": "twenty-twenty"}


# A fraction before these is a share of a measure, never a date ("on 1/4 acre", "by 1/2 inch", "on 3/4 cup").
MEASURE_NOUNS = {"acre", "acres", "mile", "miles", "inch", "inches", "foot", "feet", "yard", "yards", "cup", "cups",
                 "pound", "pounds", "ounce", "ounces", "teaspoon", "teaspoons", "tablespoon", "tablespoons", "gallon",
                 "gallons", "quart", "quarts", "pint", "pints", "liter", "liters", "litre", "litres", "meter",
                 "meters", "metre", "metres", "hectare", "hectares", "kilometer", "kilometers", "stick", "sticks",
                 "dozen", "length", "lengths"}


DATE_CONTEXT = {"on", "due", "until", "till", "since", "before", "after", "through", "thru", "by", "dated",
                "starting", "expires", "expiring"} | WEEKDAYS  # "due 3/15" is a date, "add 3/4" a fraction
# "on 3/4 of an acre" is a share of something, a fraction even after a date word; "on 11/15 of last year" a date.
PERIOD_DETERMINERS = {"this", "last", "next", "that", "each", "every"}


YEAR_CONTEXT = {"in", "since", "by", "from", "until", "till", "of", "year", "during", "before", "after", "circa"}


# After these a four-digit number is a year whatever follows ("since 1990 prices rose"); after the rest of
# YEAR_CONTEXT only when it looks like a modern year ("in 2019 sales fell", but "in 1500 cases").
YEAR_ANNOUNCERS = {"since", "year", "during", "circa", "until", "till", "born", "founded", "established", "vintage"}


# An event's verb before "in" makes the number after a year, whatever follows ("founded in 1718 by settlers").
YEAR_EVENTS = {"founded", "born", "established", "built", "completed", "opened", "died", "published", "released",
               "launched", "married", "elected", "invented", "discovered", "settled", "incorporated", "signed",
               "written", "composed", "painted", "recorded", "abolished", "rebuilt", "erected", "constructed",
               "demolished", "destroyed", "annexed", "crowned", "baptized", "buried", "killed", "renovated", "restored"}


PERIOD_NAMES = {"class", "summer", "spring", "fall", "autumn", "winter", "year", "end", "start", "beginning"}


MODERN_YEARS = range(1900, 2100)


# Numbers read digit by digit: after these words (a little filler between allowed: "the door code is 4821"),
# the emergency numbers next to "call", and any number written with a leading zero ("0042", "007").
DIGIT_CONTEXT = {"pin", "code", "passcode", "password", "combination", "otp", "extension", "account", "zip",
                 "postcode", "ending", "serial", "confirmation", "tracking", "reference", "routing", "sku", "invoice",
                 "policy", "id"}
# Things that take a number read digit by digit when "number" (or "no.", "#") names it: "order number 4471093",
# "case no. 882013"; without it the word may be a verb or a count ("Order 12 copies", "in case 3 fail").
NUMBERED_THINGS = {"order", "case", "ticket", "claim", "member", "customer", "booking", "reservation", "receipt",
                   "transaction", "membership", "patient", "student", "employee", "parcel", "shipment", "loan",
                   "model", "part", "item", "product", "catalog", "style", "lot", "stock"}
# A five-digit number (or five and four) is a ZIP code, digit by digit, after these words a few words before it ("the
# ZIP code for the office is 60614", "postal code"), or after a state that ends an address ("Chicago, IL 60614").
ZIP_WORDS = {"zip", "zipcode", "postcode", "postal"}
ZIP_WINDOW = 8  # words
US_STATE_CODES = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME",
    "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
    "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC", "PR"}
US_STATE_NAMES = {
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware", "florida",
    "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky", "louisiana", "maine",
    "maryland", "massachusetts", "michigan", "minnesota", "mississippi", "missouri", "montana", "nebraska", "nevada",
    "new hampshire", "new jersey", "new mexico", "new york", "north carolina", "north dakota", "ohio", "oklahoma",
    "oregon", "pennsylvania", "rhode island", "south carolina", "south dakota", "tennessee", "texas", "utah",
    "vermont", "virginia", "washington", "west virginia", "wisconsin", "wyoming"}
# Short codes of text messages: a number of four to six digits after "to", where a verb of these sends a keyword
# in capitals or quotes to it ("Text STOP to 45678", "send \"JOIN\" to 22333"); "Texts rose to 45000" is a count.
SHORT_CODE_VERBS = {"text", "txt", "send", "sms", "reply", "texting", "sending"}
# Codes of capitals and digits are spelled, each character alone ("QX7K2M"), when they alternate three times or
# more; after these words also a code of a few capitals then digits ("plate ABC123"), but not a word ("code SAVE20").
CODE_CONTEXT = DIGIT_CONTEXT | {"plate", "booking", "ticket", "voucher", "locator", "pnr", "vin", "registration"}
# A code of one to three capitals, a hyphen and digits is spelled, each character alone ("AB-20931" A B, two zero nine
# three one), when it has this many digits or more; with four, only after a word that names it ("case AB-2093"), since
# models and standards carry four ("ISO-9001", "HX-4100"), and roads and aircraft fewer ("US-101", "F-150").
LETTER_CODE_DIGITS = 5
LETTER_CODE_CONTEXT = CODE_CONTEXT | NUMBERED_THINGS
# Numbers read in pairs, as they are said: "error 404" four oh four, "port 8080", "Boeing 737", "RTX 4090".
PAIRED_CONTEXT = {"error", "port", "boeing", "rtx", "gtx", "rx", "airbus", "cessna", "embraer"}


DIGIT_FILLERS = {"is", "was", "in", "number", "no.", "#"}
NUMBER_FILLERS = {"number", "no.", "#"}  # the fillers that name a number: "order number is 4471093"


TOLL_FREE_CODES = {"800", "833", "844", "855", "866", "877", "888"}  # "800-555-TAXI" is a number spelled in words


EMERGENCY_NUMBERS = {"911", "999", "112", "000"}


EMERGENCY_CONTEXT = {"call", "dial", "ring", "text", "phone", "calls", "called", "calling", "operator", "dispatcher",
                     "dispatchers", "line", "dialing", "dialling", "dialed", "dialled", "dials", "texting", "texted"}


# Roman numerals: after a monarch's or pope's name an ordinal ("Henry the eighth"); after these words, or as a
# numbered sequel after a capitalized title ("Rocky II", only I/V/X, two letters or more), a cardinal.
REGNAL_NAMES = {"Henry", "Elizabeth", "Louis", "George", "Edward", "Charles", "William", "James", "Richard", "John",
                "Paul", "Pius", "Benedict", "Gregory", "Leo", "Innocent", "Clement", "Urban", "Boniface", "Philip",
                "Frederick", "Peter", "Catherine", "Mary", "Victoria", "Alexander", "Nicholas", "Ivan", "Ramesses",
                "Constantine", "Otto", "Wilhelm", "Carlos", "Juan", "Felipe", "Alfonso", "Ferdinand", "Francis",
                "Napoleon", "Harald", "Olaf", "Gustav", "Christian", "Haakon", "Rama", "Elagabalus", "Anne", "David",
                "Robert", "Stephen", "Sixtus", "Julius", "Leopold", "Rudolf", "Sigismund", "Casimir"}


ROMAN_CONTEXT = {"chapter", "act", "scene", "volume", "part", "book", "war", "episode", "phase", "title", "bowl",
                 "section", "article", "appendix", "stage", "level", "class", "type", "grade", "canto", "psalm",
                 "season", "round", "tier", "division", "category", "unit", "apollo"}


ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}


COUNT_CONTEXT = {"number", "page", "pages", "about", "over", "under", "than", "nearly", "almost", "approximately",
                 "only", "just", "some", "least", "most", "exactly", "total", "another"}


YEAR_FOLLOWERS = {  # lowercase words after which a four-digit number is still a year ("1999 was", not "1999 people")
    "was", "is", "were", "will", "would", "could", "had", "has", "have", "saw", "brought", "began", "ended", "marked",
    "and", "or", "to", "through", "until", "till", "when", "where", "while", "as", "at", "in", "on", "for", "the",
    "a", "an", "but", "with", "after", "before", "during", "season", "election", "elections", "census", "edition",
    "model", "olympics", "summer", "winter", "spring", "fall", "autumn", "budget", "report", "vintage", "release",
}
