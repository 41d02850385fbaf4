"""Words of a post in any script, for the word counts that name groups of posts: incident explanations,
complaint themes, "You said, we did" and the digest's topics.

Chinese and Japanese are written without spaces, so a run of their characters is not a word: a post's whole
sentence ("教务系统又崩了") would be one "word" that no other post shares. Such a run is read as its overlapping
pairs of characters ("教务", "务系", "系统", ...), the usual unit for counting words in these languages without a
dictionary: the pairs that are real words ("系统", system) recur across posts, the others do not. Thai, Lao,
Khmer and Myanmar runs stay whole (their letters are not words, and splitting them needs a dictionary).
"""

from __future__ import annotations

from collections.abc import Collection

import regex

# Han (with the CJK extensions and compatibility ideographs), hiragana, katakana and the iteration marks.
_CJK = (
    "\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003134f"
)
# A word: letters with their combining marks (the regex module's \w has them), inner apostrophes and hyphens
# ("doesn't", "e-mail", "ap'r"), or a run of CJK characters.
_LETTER = f"[^\\W_{_CJK}]"
_WORD = regex.compile(f"[{_CJK}]+|{_LETTER}(?:(?:{_LETTER}|['\\-])*{_LETTER})?")
_CJK_RUN = regex.compile(f"[{_CJK}]+")
# What is in a post but not its words: links (with a scheme or starting www.), e-mail addresses and @handles
# (also with the full-width at sign, U+FF20). Themes, incident explanations and "You said" leave them out of
# their word counts; "You said" also hides them in the quotes it shows.
# An address is a whole run without spaces holding an @ with a dot at least two characters after it, written
# so that matching stays linear: it starts only where a run starts, takes the run's first @ and first dot
# after it, and never backtracks. `\S+@\S+\.\S+` matched the same runs, but tried every split of every
# start: a post of "a@a@a@..." (anyone can write one on Reddit or a forum a source reads) took time growing
# with the cube of its length, minutes for a few thousand characters, on a web request (the service page's
# themes) or a worker.
NOT_WORDS = regex.compile(
    r"(?:https?://|www\.)\S+|(?<!\S)\S[^\s@]*+@\S\S*?\.\S\S*+|[@\uff20]\w[\w.]*", regex.IGNORECASE
)


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, curly apostrophes made straight, in order; each run of Chinese or
    Japanese characters as its overlapping character pairs (a single character alone)."""
    found: list[str] = []
    for word in _WORD.findall(text.replace("\u2019", "'")):
        if _CJK_RUN.fullmatch(word):
            found.extend([word] if len(word) == 1 else [word[i : i + 2] for i in range(len(word) - 1)])
        else:
            found.append(word.lower())
    return found


def is_cjk(word: str) -> bool:
    """Whether `word` is one of the character pairs `words` makes of Chinese or Japanese (a short word, but a
    word: the length rules for Latin words do not apply)."""
    return bool(_CJK_RUN.fullmatch(word))


# The commonest function words of Welsh and Spanish (the languages after English that a UK university's
# posts are most often written in), lower-cased, with and without their accents, the Welsh also in their
# mutated forms ("bod"/"fod", "gallu"/"allu"). The word counts leave these out beside the English ones
# (STOPWORDS): otherwise, as complaints in Welsh are
# fewer than those in English, "ddim" (not), "mae'r" (the ... is) or "heddiw" (today) stood out in them as a
# theme against the mostly English background. Words of two letters or fewer are left out by `content_words`
# already. Words that say what is wrong ("lawr" in "i lawr", down; "gweithio", working; "araf", slow;
# "funciona") are kept, as their English counterparts are.
STOPWORDS_WELSH_SPANISH = frozenset(
    """
    mae mae'r maen maent roedd roedd'r oedd oedd'r bydd fydd byddai fyddai bod fod sydd sy'n ydy ydy'r
    dydy dydy'r ydi ydw ydych ydyn dwi dw'i rwy rwyf rydw rydyn rydych roeddwn oeddwn fues buodd fuodd
    wedi ddim dim nid nad nag nac oes does doedd wnaeth wnes wnest gwneud wneud cael gael mynd fynd
    dod ddod gallu allu methu eisiau isio moyn rhaid gorfod angen jyst dal eto heddiw nawr rwan rŵan
    heno ddoe pan pam beth sut ble lle pwy faint pryd achos oherwydd felly ond neu hefyd
    gyda gyda'r efo efo'r gan gen mewn trwy drwy dros wrth heb hyd tan rhwng ar'y i'r o'r a'r yn'y
    hwn hon hyn hynny dyma dyna yma yna nhw chi chdi nhw'n ni'n fi'n ti'n hi'n fe'n mi'n
    pob bob pawb rhywun rywun rhywbeth rywbeth unrhyw popeth byd gyd iawn eithaf braidd mor fwy mwy
    plis diolch sori helo shwmae sut'mae fy'n ein eich
    que qué los las del por con una uno unos unas para desde esta este está están estás esto eso
    esa ese pero como cómo más mas muy hay sin sus nos les otra otro otros vez todo todos toda nada
    cuando cuándo donde dónde porque por qué también tambien todavía todavia sigue siguen alguien algo
    gracias favor puedo puede pueden tengo tiene tienen ser estar son fue era han hace hoy ayer
    """.split()  # noqa: SIM905 - a readable word list
)


# English function words (articles, pronouns, prepositions, conjunctions, auxiliaries and their contractions
# with and without the apostrophe, the commonest adverbs) and the fillers of posts about a fault ("anyone
# else?", "it says", "tried again", "it was fine", "works for me", "omg", "lol", "gonna", "uni"), lower-cased,
# for the word counts. Fillers are words every kind of post uses, so any group of posts that shares a turn of
# phrase ("anyone else", "trying to ...") lifts them above the rest: a rising "else" or
# "trying" says nothing of what is wrong. Words that say what is wrong are kept ("slow", "error", "login",
# "working", "work" in "not working", "doesn't work"); "works" and "worked" are kept out, as they are mostly
# said once a thing works again ("tried another browser and it worked"). "down" is kept: it tells an outage
# from other complaints in themes (incident explanations leave it out themselves: a rise of complaints says as
# much). Words of two letters or fewer are left out by `content_words` already.
STOPWORDS_ENGLISH = frozenset(
    """
    a an the this that these those each every either neither some any all both few many much more most
    less least other others another such several enough own same

    i me my mine myself you your yours yourself yourselves he him his himself she her hers herself it its
    itself we us our ours ourselves they them their theirs themselves one ones

    anyone anybody anything anywhere everyone everybody everything everywhere someone somebody something
    somewhere nobody nothing nowhere none whatever whoever whichever whenever wherever however

    what when where which while who whom whose why how

    about above across after against along among around as at before behind below beneath beside besides
    between beyond by despite during except for from in inside into like near of off on onto out
    outside over past per since through throughout till to toward towards under until unlike up upon via
    with within without

    and but or nor so yet because although though if unless whether than then also

    am is are was were be been being have has had having do does did doing done can could may might must
    shall should will would ought
    isn't aren't wasn't weren't haven't hasn't hadn't don't doesn't didn't can't cannot couldn't won't
    wouldn't shouldn't mustn't isnt arent wasnt werent havent hasnt hadnt dont doesnt didnt cant couldnt
    wont wouldnt shouldnt i'm im i've ive i'd i'll you're youre you've you'll you'd he's she's it's that's
    thats there's theres what's whats let's we're we've they're theyre they've

    again already always ever even just only still too very really quite rather almost else here there
    now today tonight yesterday tomorrow soon maybe perhaps probably actually literally basically
    seriously honestly definitely anyway anymore instead otherwise somehow sometimes often never not yes
    yeah yep yup nope okay further once no

    get gets getting got gotten go goes going gone went make makes made making say says said saying tell
    tells told try tries tried trying know knows knew think thinks thought see sees saw seem seems seemed
    look looks looking keep keeps kept want wants wanted need needs needed let use uses used using works
    worked fine good great nice sure thing things stuff lot bit

    please pls plz thanks thank thx sorry guys omg lol lmao ugh tbh ngl idk btw amp via rt oh ok rn gonna
    wanna cos coz tho uni time way back help two new week http https www com
    """.split()  # noqa: SIM905 - a readable word list
)
# What every word count leaves out.
STOPWORDS = STOPWORDS_ENGLISH | STOPWORDS_WELSH_SPANISH


def content_words(text: str, *, ignore: Collection[str] = frozenset()) -> list[str]:
    """The words of a post that can name what a group of posts is about, in order: its `words` without links,
    addresses and handles (NOT_WORDS), stop words, numbers and Latin words of two letters or fewer (a Chinese or
    Japanese pair is a word); an English "'s" is taken off ("moodle's" is "moodle", "anyone else's" no more than
    "anyone else"); and the words in `ignore`."""
    found = []
    for word in words(NOT_WORDS.sub(" ", text)):
        word = word.removesuffix("'s")
        if (
            (len(word) > 2 or is_cjk(word))
            and word not in STOPWORDS
            and word not in ignore
            and not word[0].isdigit()
        ):
            found.append(word)
    return found
