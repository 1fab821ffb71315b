"""The fixed texts every benchmark and the soak test speak: short replies, paragraphs and a long article,
as an assistant, a reader app and a narration service would send them."""

SHORT_REPLIES = [
    "Sure, I can help with that.",
    "Your order has shipped and should arrive on Thursday.",
    "Sorry, I didn't catch that. Could you say it again?",
    "The meeting is moved to three thirty this afternoon.",
    "It is currently 18 degrees and cloudy in Lisbon.",
    "Done! I've added milk, eggs and bread to your list.",
    "Turn left in two hundred meters, then keep right.",
    "You have three new messages and one missed call.",
]

PARAGRAPHS = [
    "The lighthouse stood at the edge of the cliff for nearly two hundred years. Every night its keeper climbed "
    "the narrow stairs, trimmed the wick and watched the beam sweep across the water. Ships that had never seen "
    "the coast by daylight knew its rhythm by heart, and sailors said that as long as the light turned, the sea "
    "would let them home.",
    "To reset the device, hold the power button for ten seconds until the light blinks twice. Release it, wait "
    "for the chime, and then connect to the network named in the setup guide. If the light stays red, unplug the "
    "adapter for a minute and try again. Your settings and saved profiles are kept during the reset.",
    "Researchers have found that short walks after meals can noticeably lower blood sugar levels. In a small "
    "study, participants who walked for just fifteen minutes after eating showed smaller spikes than those who "
    "sat still. The effect was strongest after the evening meal, when people are usually least active.",
    "Our quarterly results exceeded expectations. Revenue grew by twelve percent compared with the same period "
    "last year, driven mostly by subscriptions in Europe and Asia. Operating costs stayed flat, and we expect "
    "the new data center to reduce them further in the second half of the year.",
]

ARTICLE = " ".join([
    "When the first public libraries opened their doors, few people imagined what they would become. They began "
    "as quiet rooms of borrowed books, guarded by clerks who kept careful ledgers of every loan. Over the next "
    "century they turned into something far larger: places where anyone could learn a trade, read a newspaper, "
    "find a job or simply stay warm on a winter afternoon.",
    "The change did not happen by accident. Librarians argued, often against fierce opposition, that knowledge "
    "should be free at the point of use. They fought for longer opening hours, for children's reading rooms and "
    "for collections in the languages their neighbors actually spoke. Each of these battles seems obvious now, "
    "but each was controversial at the time.",
    "Today the shelves share space with computers, printers and study booths. A visitor might come to renew a "
    "passport form, join a language class or record a podcast in a soundproof room. The library has become a "
    "kind of public living room, one of the last indoor spaces where nobody expects you to buy anything.",
    "Funding remains the constant worry. Budgets rise and fall with local politics, and every cut is felt first "
    "in shorter hours and thinner collections. Yet usage keeps growing in many cities, especially among students "
    "and older residents, who rely on the building as much as on the books.",
    "Perhaps the most remarkable thing about libraries is how little they ask in return. You walk in, you take "
    "what you need, and you bring it back when you are done. In a world that measures almost everything, that "
    "simple exchange of trust is worth protecting.",
])

SHORT_FIRST = "Thanks for calling."
TWO_SENTENCES = f"{SHORT_FIRST} Your table for four is booked for eight o'clock tonight."
# A first sentence of 16 words: streamed, it is the first chunk whole unless FIRST_CHUNK_WORDS cuts it at a clause.
LONG_FIRST = "To reset the device, hold the power button for ten seconds until the light blinks twice."
LONG_FIRST_SENTENCE = f"{LONG_FIRST} Then release it."
MIXED = SHORT_REPLIES + PARAGRAPHS + [ARTICLE]
