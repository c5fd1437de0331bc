"""General English knowledge the analysis needs, as data, in one place.

Nothing here belongs to a particular corpus: these are the words any English news copy
uses to say who someone is (honorifics, titles, role nouns), that someone spoke (speech
verbs), who "he" or "she" may be, which capitalised words name organisations rather than
people, and spellings that readers and writers use for the same word. A test checks that
no person, role, place or spelling of the seed articles appears anywhere in `rag/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def words(text: str) -> tuple[str, ...]:
    """The words of a block of text: the lists below read as prose, one word each."""
    return tuple(text.split())


def alternation(items: Iterable[str]) -> str:
    """A regular-expression alternation of these words, longest first (so that
    "spokeswoman" is tried before "spokes…"), each escaped."""
    return "|".join(re.escape(w) for w in sorted(set(items), key=lambda w: (-len(w), w)))


# Honorifics stand before a name and are not part of it; the value is the gender they
# tell, when they tell one ("m", "f"), else "".
HONORIFICS: dict[str, str] = {
    "mr": "m",
    "mister": "m",
    "sir": "m",
    "lord": "m",
    "baron": "m",
    "king": "m",
    "prince": "m",
    "mrs": "f",
    "ms": "f",
    "miss": "f",
    "madam": "f",
    "dame": "f",
    "lady": "f",
    "baroness": "f",
    "queen": "f",
    "princess": "f",
    "dr": "",
    "doctor": "",
    "prof": "",
    "professor": "",
    "rev": "",
    "reverend": "",
    "mx": "",
}

# Honorifics that go with the first name when the surname is dropped ("Sir Tom", never
# "Sir Ray" for Sir Tom Ray).
FIRST_NAME_HONORIFICS: frozenset[str] = frozenset(words("sir dame king queen prince princess"))

# Capitalised titles that may stand before a name ("Chancellor Anna Berg", "Prime
# Minister Tom Field", "Secretary General Ada Holm"). Several words make one title.
TITLE_WORDS: frozenset[str] = frozenset(
    words(
        """
    president vice prime minister chancellor secretary general state foreign finance home
    interior defence defense trade health education culture justice deputy shadow chief
    executive governor senator congressman congresswoman representative judge justice
    mayor commissioner ambassador director chairman chairwoman chair coach captain manager
    pope cardinal bishop archbishop general colonel major lieutenant sergeant admiral
    inspector detective superintendent commander premier speaker treasurer attorney
    sheikh emir sultan chief-executive supt det insp sgt cllr lt col gen maj capt
    """
    )
)

# Nouns naming what a person is or does ("spokeswoman", "the minister", "chief
# executive"): before a name they introduce it, after "the" they stand for someone the
# article has introduced with that role. The value is the gender they tell, if any.
ROLE_NOUNS: dict[str, str] = {
    **{
        w: ""
        for w in words(
            """
        president minister chancellor secretary chief executive chairman chair director
        manager coach boss head leader founder owner partner analyst economist strategist
        governor commissioner senator mayor ambassador official spokesperson
        representative lawyer attorney solicitor barrister judge prosecutor professor
        researcher scientist expert doctor editor author writer columnist critic
        correspondent reporter presenter broadcaster producer director designer developer
        engineer programmer consultant adviser advisor aide officer inspector detective
        captain striker midfielder defender goalkeeper keeper winger forward player
        full-back centre-back wing-back centre-forward playmaker hooker flanker fly-half
        scrum-half outside-half wicketkeeper all-rounder spinner seamer
        champion athlete runner sprinter jumper skater cyclist rider driver jockey boxer
        golfer bowler batsman skipper international star singer actor rapper musician
        guitarist drummer bassist vocalist frontman comedian presenter host dancer artist
        photographer film-maker filmmaker novelist poet composer conductor chef officer
        treasurer deputy candidate campaigner activist chairperson president-elect
        minister-designate premier student teacher pupil fan user customer worker
        employee veteran colleague compatriot team-mate teammate rival opponent
        wing prop dj deejay holder co-star comic winner lyricist songwriter
        accountant farmer mogul decathlete heptathlete trainer mentor newscaster
        newsreader agent magistrate coroner sheriff dealer trader broker banker fellow
        ombudsman coordinator co-ordinator controller
        """
        )
    },
    "spokesman": "m",
    "chairwoman": "f",
    "spokeswoman": "f",
    "actress": "f",
    "businessman": "m",
    "businesswoman": "f",
    "sportsman": "m",
    "sportswoman": "f",
    "husband": "m",
    "wife": "f",
    "father": "m",
    "mother": "f",
    "son": "m",
    "daughter": "f",
    "brother": "m",
    "sister": "f",
    "widow": "f",
    "girlfriend": "f",
    "boyfriend": "m",
    "congressman": "m",
    "congresswoman": "f",
    "frontwoman": "f",
    "heroine": "f",
    "hero": "m",
}

# What news copy calls someone by their country, after "the" ("said the American", "the
# Scot added"): like "the 74-year-old comedian", whoever the story is about there. Nouns
# only: "the French", "the Chinese" or "the Swiss" are a people, not a person.
DEMONYMS: frozenset[str] = frozenset(
    words(
        """
    american australian austrian argentine argentinian belgian brazilian briton bulgarian
    canadian chilean colombian croat croatian czech dane dutchman dutchwoman
    egyptian englishman englishwoman estonian ethiopian fijian finn frenchman frenchwoman
    georgian german ghanaian greek hungarian icelander indian indonesian iranian iraqi
    irishman irishwoman israeli italian jamaican kenyan korean latvian
    lithuanian mexican moroccan nigerian norwegian pakistani peruvian pole
    romanian russian saudi scot scotsman scotswoman serb serbian slovak slovenian
    spaniard swede syrian thai turk ukrainian uruguayan venezuelan
    welshman welshwoman zimbabwean kiwi aussie
    """
    )
)

# Demonyms that stand before no name ("Scot", "Kiwi"), and "german", a first name too
# ("German Vell").
_NOUNS_ONLY = frozenset(words("briton dane finn pole scot swede turk kiwi aussie german"))

# Adjectives of nationality, which stand before a name without being part of it
# ("Irish Harbour Lions coach…" names no one called Irish).
NATIONAL_ADJECTIVES: frozenset[str] = frozenset(
    words(
        """
    british english scottish welsh irish french spanish danish swedish finnish polish
    turkish dutch flemish kurdish icelandic european african asian arab chinese japanese
    swiss portuguese vietnamese taiwanese maltese lebanese burmese nepalese sudanese
    senegalese congolese togolese guyanese
    """
    )
) | (DEMONYMS - _NOUNS_ONLY)

PRONOUNS: dict[str, str] = {"he": "m", "she": "f"}

# Role nouns that name an unnamed source ("a spokesman said", "said one analyst"): unlike
# "the 74-year-old comedian", they never stand for the person the story is about.
UNNAMED_SOURCES: frozenset[str] = frozenset(
    words(
        """
        spokesman spokeswoman spokesperson official officials analyst analysts expert experts
        source sources representative officer aide adviser advisor lawyer attorney fan fans
        user users customer customers worker workers employee employees student students
        pupil teacher colleague rival opponent observer observers insider insiders
        """
    )
)

# Speech verbs by their base form; `speech_forms` inflects them. Verbs of opinion
# ("believes", "thinks") report a view as much as words, and news copy uses them so.
SPEECH_VERBS: tuple[str, ...] = tuple(
    words(
        """
    say tell add state note warn argue suggest caution stress emphasise emphasize urge
    insist claim explain admit acknowledge describe announce confirm reveal predict
    believe think hope fear expect complain agree deny reply respond comment observe
    write ask conclude maintain accept concede estimate forecast vow pledge promise
    declare recall remark report reiterate assert contend allege point praise criticise
    criticize condemn question dismiss welcome insist reckon feel admit rule tweet joke
    boast concede blast slam hail call characterise characterize highlight indicate
    outline plead propose recommend urge worry wonder announce clarify signal foresee express see play voice refer cite mention recount
    sum slate counter bemoan chide lambast blame accuse apologise thank congratulate refute
    single hit make intimate confident continue hint
    """
    )
)

# Forms the rules cannot make from the base ("said", "told", "thought"…).
IRREGULAR_FORMS: dict[str, tuple[str, ...]] = {
    "say": ("say", "says", "said", "saying"),
    "tell": ("tell", "tells", "told", "telling"),
    "think": ("think", "thinks", "thought", "thinking"),
    "write": ("write", "writes", "wrote", "written", "writing"),
    "feel": ("feel", "feels", "felt", "feeling"),
    "forecast": ("forecast", "forecasts", "forecasting", "forecasted"),
    "point": ("pointed out", "points out", "point out", "pointing out"),
    "rule": ("ruled out", "rules out", "rule out", "ruling out"),
    "call": ("called", "calls for", "call for", "calling for"),
    "play": ("played down", "plays down", "play down", "playing down"),
    "sum": ("summed up", "sums up", "sum up", "summing up"),
    "single": ("singled out", "singles out", "single out", "singling out"),
    "hit": ("hit out", "hits out", "hitting out"),
    # "made clear progress" is no speech: "made clear" counts with "that" only.
    "make": (
        "made it clear",
        "makes it clear",
        "make it clear",
        "making it clear",
        "made clear that",
        "makes clear that",
    ),
    # A view stated with its clause ("Hale is confident the plan will work"); without
    # one ("confident of a win", "confident.") no words are given (rag.analysis.speakers).
    "confident": tuple(
        f"{be}{no} {adjective}"
        for be in ("is", "was", "remains", "remained")
        for no in ("", " not")
        for adjective in ("confident", "convinced", "adamant", "concerned", "optimistic", "hopeful")
    ),
    # As nouns these forms are common: "thanks to", "the E-slates", "a counter".
    "thank": ("thanked", "thanking"),
    "slate": ("slated", "slating"),
    "counter": ("countered", "countering"),
    "see": ("sees",),  # "He sees a chance that…"; "saw" is as often a rise in sales
    "foresee": ("foresee", "foresees", "foresaw", "foreseeing"),
}

# Words that, inside a capitalised run, make it an organisation, a place or an event
# rather than a person ("Orchard Bank", "Harbour Street", "Winter Games").
ORGANISATION_WORDS: frozenset[str] = frozenset(
    words(
        """
    bank group plc ltd limited inc corp corporation company co holdings partners capital
    securities fund funds trust foundation society association federation union league
    club united city rovers athletic wanderers county town albion fc rfc council
    commission ministry department office agency authority board bureau service services
    institute university college school academy hospital museum gallery theatre theater
    centre center church party government parliament assembly senate congress court
    tribunal police army navy force forces airways airlines air motors records studios
    studio pictures films entertainment media network networks news times post herald
    telegraph journal magazine press radio television tv channel broadcasting systems
    technologies technology software labs laboratories electronics communications
    telecom mobile online digital energy oil gas petroleum power steel mining foods
    brewery pharmaceuticals exchange markets market index street road avenue square
    house palace hall park stadium arena island islands valley river mountain lake sea
    ocean bay coast north south east west northern southern eastern western central
    awards award prize festival olympics olympic games cup championship championships
    open tour series trophy grand prix festival week day year state states kingdom
    republic empire nations europe commonwealth alliance coalition movement campaign
    committee panel organisation organization institution industries industry
    international global worldwide associates brothers bros sons airport port station
    administration conference summit show expo exhibition laboratory hotel restaurant
    research project initiative investigation rights financial insurance agreement
    graphics devices broadband computer computers data economy companies products
    manufacturers internet unit boerse börse bourse ag gmbh sa spa nv banque banco
    """
    )
)

# Lower-case nouns that introduce an organisation's name right after them ("the insurer
# Tova Reed", "investment bank Orchard Weston", "rock band Ada Ray"): what follows them
# is no person, however much its words look like a name, unless the article also uses
# its last word as a person's surname.
ORGANISATION_NOUNS: frozenset[str] = frozenset(
    words(
        """
    firm firms company companies bank banks group giant retailer carrier airline
    brokerage agency label chain studio insurer lender manufacturer conglomerate
    supermarket brewer consultancy website site network newspaper magazine outfit band
    charity watchdog regulator exchange bourse reinsurer
    """
    )
)

# Capitalised words that begin sentences or name times, never people.
# Months, which are names too ("Tova May", "June Ray"): after a first name, or as a
# known surname before a speech verb ("May said"), they are.
MONTHS: frozenset[str] = frozenset(
    words("january february march april may june july august september october november december")
)

NOT_NAMES: frozenset[str] = MONTHS | frozenset(
    words(
        """
    monday tuesday wednesday thursday friday saturday sunday christmas easter
    i we you they he she it his her its our their my your this that these those there
    here what which who whom whose when where why how if while although though because
    since after before as at by for from in into of on onto to with without within
    about above across against along among around behind below beneath beside between
    beyond despite during except inside like near off outside over past than through
    throughout toward towards under unlike until up upon via yet so but and or nor
    not no yes a an the all any both each either every few many more most much neither
    none one other several some such many meanwhile however moreover indeed also still
    even just only perhaps maybe now then today tomorrow yesterday tonight last next
    first second third new old mr mrs ms dr
    """
    )
)

# Adverbs and conjunctions that open sentences ("Once Lund Rovers…", "Often Tova…"), and
# adjectives that open a role before a name ("Former Lund Rovers striker Ivo Berg"): no
# first name where they open a run of capitals, though a name may end with one ("Lee
# Soon").
OPENERS: frozenset[str] = frozenset(
    words(
        """
    once instead thus otherwise elsewhere nevertheless nonetheless furthermore besides
    unless whether already again together later earlier soon almost often never always
    overall finally recently whilst former acting interim outgoing fellow
    """
    )
)

# Lower-case words that join the parts of a name ("Ana de Souza", "Jan van Dijk").
NAME_PARTICLES: frozenset[str] = frozenset(
    words("de da di du del della der den van von le la al el bin ibn ben dos das st")
)

# Spellings of one word that writers and readers use interchangeably; the key is read
# as the value when matching. Common transliterations and British/American spellings.
VARIANTS: dict[str, str] = {
    "kiev": "kyiv",
    "defence": "defense",
    "programme": "program",
    "organisation": "organization",
    "favour": "favor",
    "colour": "color",
    "centre": "center",
    "theatre": "theater",
    "usa": "us",
}


def speech_forms(base: str) -> tuple[str, ...]:
    """Every form of a speech verb: "warn" -> warn, warns, warned, warning."""
    if base in IRREGULAR_FORMS:
        return IRREGULAR_FORMS[base]
    if base.endswith("e"):
        return (base, base + "s", base + "d", base[:-1] + "ing")
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        return (base, base[:-1] + "ies", base[:-1] + "ied", base + "ing")
    if base.endswith(("s", "sh", "ch", "x")):
        return (base, base + "es", base + "ed", base + "ing")
    if base in ("admit", "slam", "plan", "stop", "regret", "refer"):
        return (base, base + "s", base + base[-1] + "ed", base + base[-1] + "ing")
    return (base, base + "s", base + "ed", base + "ing")


# Verbs that give a thing a name, not words: 'fans dubbed it a "plan for the few"' quotes
# nobody. Listed form by form, since British spelling doubles consonants ("labelled").
NAMING_FORMS: frozenset[str] = frozenset(
    words(
        """call calls called calling dub dubs dubbed dubbing label labels labelled labeled
        labelling labeling brand brands branded branding term terms termed terming name
        names named naming title titles titled titling nickname nicknames nicknamed
        nicknaming rename renames renamed renaming"""
    )
)


# Every form of every speech verb ("said", "warning", "pointed out"), made once.
SPEECH_FORMS: frozenset[str] = frozenset(f for base in SPEECH_VERBS for f in speech_forms(base))
