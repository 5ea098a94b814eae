"""Word lists the structured judge leans on: feelings, near-synonyms and cue phrases.

These are general English lists written for couples' everyday talk, not lists tuned to
any test file. Each cue list names one kind of thing a facilitator listens for.
"""

from __future__ import annotations

from facilitator.judging.text import stem

# Feelings (adjectives and nouns) with a rough valence: -1 painful, +1 pleasant.
_PAINFUL = """
abandoned afraid agitated alarmed alone angry anguished annoyed anxious apprehensive ashamed
attacked awful awkward betrayed bitter blamed blindsided broken burdened burnt crushed
defeated defensive dejected depressed desperate despair devastated disappointed discouraged
disconnected disgusted dismissed disrespected distant distressed distraught disturbed dread
dreading drained embarrassed empty enraged exasperated excluded exhausted fed forgotten
frightened frustrated fried furious grief grieving guilty heartbroken helpless hopeless
horrified hurt humiliated ignored impatient inadequate insecure insignificant irritated
isolated invisible jealous lonely lonesome lost mad miserable mistrustful misunderstood
neglected nervous numb offended outraged overlooked overwhelmed pained panicked panicky panic
pressured pressure powerless rejected resentful restless sad sadness scared shaken shame
shocked sick small smothered sorry stressed stuck suffocated suspicious tense terrified
threatened tired torn trapped troubled uncomfortable undermined undercut unappreciated
uneasy unheard unimportant unloved unseen unsafe unsupported unwanted upset used useless
vulnerable weary worn worried worry worthless wounded wreck afterthought guest failure
crowded supervised judged controlled criticized criticised pushed rushed cornered
confused conflicted uncertain unsure hesitant fearful fear anxiety lonely loneliness
homesick regretful remorseful disheartened demoralized deflated unattractive ugly stupid
silly foolish childish patronized belittled diminished unvalued invalidated unsettled
shut stung hurtful heavy low down blue anger rage tension stress sore cranky grumpy
"""
_PLEASANT = """
appreciated appreciative calm cared close comfortable confident connected content delighted
eager excited glad grateful thankful happy hopeful joyful loved peaceful pleased proud
relaxed relieved safe secure seen supported thrilled touched understood valued warm
protective tender curious energized inspired optimistic reassured respected special
included remembered trusted important accepted welcome rested cherished
"""

FEELINGS: dict[str, int] = {w: -1 for w in _PAINFUL.split()}
FEELINGS.update({w: 1 for w in _PLEASANT.split()})
FEELING_STEMS: dict[str, int] = {stem(w): v for w, v in FEELINGS.items()}

# Near-synonyms folded to one token before comparing words. Kept general on purpose.
_GROUPS = """
anxious nervous worried uneasy concerned apprehensive tense jittery on-edge antsy
scared afraid frightened terrified fearful
sad down unhappy blue sorrowful heartbroken
alone lonely isolated by-myself by-yourself on-my-own on-your-own
angry mad furious pissed livid enraged
hurt wounded pained stung
tired exhausted drained wiped fried wrecked worn burnt burned spent beat zonked
embarrassed humiliated ashamed mortified
ignored dismissed overlooked brushed disregarded
invisible unseen
rejected turned-down pushed-away
pressured pushed rushed cornered
undermined undercut
overwhelmed swamped buried
frustrated annoyed irritated fed-up
uncomfortable uneasy
villain bad-guy
kid child
dad father
mom mother mum
home house place
buy bought purchase purchased
call phone ring
money cash bucks grand dollars
job work office shift
boss manager supervisor
talk discuss mention bring
ask check consult
tell told said say
leave quit drop go
forget forgot forgotten
help support back
care matter mean
want wish like need hope
plan system schedule arrangement
worry concern
night evening
kids children
weekend saturday sunday
sleep bed
quiet calm silent
"""

CANON: dict[str, str] = {}
PHRASES: dict[str, str] = {}
for _line in _GROUPS.strip().splitlines():
    _items = _line.split()
    _head = stem(_items[0])
    for _item in _items:
        if "-" in _item:
            PHRASES[_item.replace("-", " ")] = _items[0]
        else:
            CANON.setdefault(stem(_item), _head)

# Common homophones and slips of a small speech recogniser.
HOMOPHONES = {
    "your": "you're", "knights": "nights", "knight": "night", "to": "two", "its": "it's",
    "there": "their", "vendor": "bender", "mad": "that",
}

# Frame phrases: a mirror's opener and closing check-in (not content).
OPENERS = (
    r"(?:ok(?:ay)?|so|um|uh|alright|yeah|well|right)\b",
    r"let me (?:see|check|make sure)(?: if| that)?(?: i(?: got| get| understood| heard| have)(?: (?:it|that|you|this|all(?: of)?(?: it| that| this)?|everything))?(?: right)?)?",
    r"(?:if )?i (?:got|get|heard|understood) (?:you|it|that|this)(?: right)?",
    r"what i(?:'m| am)? (?:hear|hearing|heard|getting|get)(?: (?:from you|you say|you saying|you're saying|you said))?(?: is)?(?: that)?",
    r"i(?:'m| am)? (?:hear|hearing|heard)(?: you)?(?: (?:say|saying|said))?(?: that)?",
    r"(?:so )?you(?:'re| are)? saying(?: that)?",
    r"it sounds like",
    r"what you(?:'re| are)? (?:saying|telling me) is(?: that)?",
)
CHECK_INS = (
    r"did i (?:get|got|hear|understand|catch|miss)\b(?: \w+){0,3}",
    r"is (?:that|this|there) (?:right|it|correct|everything|all|more|true|accurate|what you (?:said|mean|meant))(?: of it)?",
    r"(?:have i|am i) (?:got|getting|understanding|heard?)(?: \w+){0,2}",
    r"is there (?:more|anything (?:else|more))(?: about that)?",
    r"(?:anything|something) (?:else|more|i missed)",
    r"(?:right|correct)",
    r"(?:got it|that right)",
)

# Cue phrases for what does not belong in a mirror (checked on normalised text).
REBUTTAL = (
    "but i ", "but you ", "but it ", "but it's ", "but that's ", "but she ", "but he ",
    "but they ", "but we ", "but honestly", "but like", "but i'm", "i did ", "i only ", "i just ",
    "i was the one", "you're the one", "you are the one", "it's not like", "i literally",
    "to be fair", "in my defense", "that's not true", "that's not fair", "i never said",
    "not my fault", "what am i supposed to", "what else do you want", "i already",
    "at least i", "you also", "you do it too", "you know how", "i told you", "i mean i",
    "i'm allowed", "it was nothing", "it's just", "that's just how", "doesn't mean anything",
    "don't even worry", "i would never", "you're not a", "they're idiots", "she's literally",
    "he's literally", "it's a public", "i can't control", "i'm literally", "well she", "well he",
    "well you", "you say i", "you say you", "you said i",
)
ADVICE = (
    "you should", "we should", "you could just", "we could just", "why don't you",
    "why don't we", "let's just", "you need to", "we need to", "just set", "just turn",
    "go to hr", "talk to someone", "what we need is", "what you need is", "you ought",
    "have you tried", "try to", "maybe you should", "you have to just", "just go",
    "we just", "we'll just", "i'll just", "the solution", "easy fix", "all you have to do",
    "how much does", "do you want me to", "or what", "we can go", "we could get",
)
INTERPRETATION = (
    "really saying", "really mean", "really means", "what you mean is", "basically",
    "in other words you", "you just don't", "you just want", "you don't trust",
    "you don't like", "you don't want", "you think i'm", "you think i", "you think my",
    "you care more", "you'd rather", "you hate", "you must think", "so you're saying i",
    "you're calling me", "deep down you", "the real reason", "you're just jealous",
    "you're still bringing", "you always", "you never", "matters more than",
)
SARCASM = (
    "got it", "great", "how dare", "oh ok", "oh okay", "oh sure", "sure sure", "wow",
    "congratulations", "do you want a medal", "like a grandpa", "like a child", "as usual",
    "poor ", "i'm not allowed", "so i'm the bad guy", "fine", "whatever", "thrilled",
    "must be nice", "yeah right", "huh", "obviously", "totally makes sense",
    "the only person in the world", "silly me",
)
OWN_FEELING = (
    "i feel", "i felt", "i'm feeling", "i am feeling", "i've been", "i'm scared",
    "i'm worried", "i'm tired", "i'm exhausted", "i'm stressed", "me too", "too sometimes",
    "i get anxious", "i get scared", "i've been stressing", "i'm so", "i feel terrible",
)

# Opposites: a reply that puts one where the Sender said the other has changed the meaning
# ("part time" said back as "full time", "less" for "more"). One pair a line, both ways.
_OPPOSITES = """
full part
more less
more fewer
big small
early late
always never
everything nothing
everyone nobody
stay leave
start stop
remember forget
love hate
like hate
allowed forbidden
win lose
increase decrease
better worse
easy hard
safe unsafe
happy unhappy
fair unfair
true false
agree disagree
quiet loud
fast slow
quick slow
high low
hot cold
near far
short long
heavy light
young old
new old
push pull
give take
buy sell
accept reject
include exclude
trust distrust
clean dirty
tidy messy
awake asleep
together apart
together alone
busy free
rich poor
cheap expensive
strong weak
"""
OPPOSITES: dict[str, set[str]] = {}
for _line in _OPPOSITES.strip().splitlines():
    _a, _b = _line.split()
    OPPOSITES.setdefault(stem(_a), set()).add(stem(_b))
    OPPOSITES.setdefault(stem(_b), set()).add(stem(_a))
