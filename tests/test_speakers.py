"""Who said what: people found from the text, speech attributed, questions about people.

Most articles here are written in the test with invented people and places, so that no
rule can lean on the seed articles; the seeds and the BBC labels are checked as whole
corpora in tests/test_eval.py.
"""

import hashlib
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from eval.corpora import corpus
from rag import Assistant
from rag.analysis.people import find_people
from rag.analysis.registry import ArticlePerson, People
from rag.analysis.speakers import attribute
from rag.config import Settings
from rag.corpus import scan
from rag.store.pipeline import SPLITTER
from rag.text import split_sentences

ROOT = Path(__file__).resolve().parent.parent

ARTICLE = """Harbour tolls to rise, says minister

Finance minister Ines Varga said on Monday that tolls at the Lund harbour would rise by 4% next year. "We cannot keep the bridge open on goodwill alone," Ms Varga told reporters. "The money has to come from somewhere.

"Every crossing will cost a little more."

Tomas Brenner, head of the Lund Shippers Association, said the rise would hurt small firms. He added: "Our members already pay more than anyone in the region." The association said it would appeal.

According to Brenner, freight traffic fell by a fifth last year. The minister dismissed the figure. "It is simply not true," she said.

Orchard Bank said the harbour had borrowed too much. "Nobody wants to pay for it," said a spokesman for the bank.
"""


def attributed(text: str) -> dict[str, tuple[str | None, str | None]]:
    spans = split_sentences(text)
    out, _, _ = attribute(text, spans)
    return {text[s.start : s.end]: who for s, who in zip(spans, out, strict=True)}


@pytest.fixture(scope="module")
def harbour() -> dict[str, tuple[str | None, str | None]]:
    return attributed(ARTICLE)


def speaker(table: dict, start: str) -> tuple[str | None, str | None]:
    return next(v for k, v in table.items() if k.startswith(start))


@pytest.mark.parametrize(
    "start, expected",
    [
        ("Harbour tolls to rise, says minister", ("Ines Varga", "reported")),  # a headline's role
        ("Finance minister Ines Varga said", ("Ines Varga", "reported")),
        ('"We cannot keep the bridge', ("Ines Varga", "direct")),  # Ms + surname
        ('"The money has to come', ("Ines Varga", "direct")),  # a quotation running on
        ('"Every crossing will cost', ("Ines Varga", "direct")),  # reopened in a new paragraph
        ("Tomas Brenner, head of", ("Tomas Brenner", "reported")),  # apposition
        ("He added:", ("Tomas Brenner", "direct")),  # pronoun: the last to speak
        ("The association said", (None, None)),  # an organisation is no person
        ("According to Brenner", ("Tomas Brenner", "reported")),
        ("The minister dismissed the figure.", ("Ines Varga", "reported")),  # a role
        ('"It is simply not true," she said.', ("Ines Varga", "direct")),  # she, not Brenner
        ("Orchard Bank said", (None, None)),
        ('"Nobody wants to pay for it,"', (None, None)),  # an unnamed spokesman
    ],
)
def test_attribution_of_an_invented_article(harbour, start, expected):
    assert speaker(harbour, start) == expected


def test_people_of_an_invented_article_with_forms_and_roles():
    people, mentions = find_people(ARTICLE)
    by_name = {p.name: p for p in people}
    assert {"Ines Varga", "Tomas Brenner"} <= set(by_name)
    assert not {"Orchard Bank", "Lund Shippers Association"} & set(by_name)
    varga = by_name["Ines Varga"]
    assert {"Ms Varga", "Ines Varga"} <= varga.forms and varga.gender == "f"
    assert any("finance minister" in r for r in varga.roles)
    assert any("head of the lund shippers association" in r for r in by_name["Tomas Brenner"].roles)
    # Every mention names a span of the text that is one of the person's forms or a role.
    for m in mentions:
        said = ARTICLE[m.start : m.end]
        assert said in people[m.person].forms or m.kind == "role", said


def test_a_second_person_quoted_inside_a_sentence_is_not_its_speaker():
    text = (
        "Port talks stall\n\nAna Holm said there must be 'a fair deal for every boat', "
        "Piet Laan noted on Friday.\n"
    )
    table = attributed(text)
    assert speaker(table, "Ana Holm said")[0] == "Piet Laan"


def test_two_people_sharing_a_surname_are_told_apart_within_an_article():
    text = (
        "Brothers split on mill\n\nKarl Dorn, the mill's owner, said the mill would close. "
        "His brother Otto Dorn said he would fight it. "
        '"We will not let it go," Dorn said.\n'
    )
    table = attributed(text)
    assert speaker(table, "Karl Dorn, the")[0] == "Karl Dorn"
    assert speaker(table, "His brother Otto Dorn")[0] == "Otto Dorn"
    assert speaker(table, '"We will not let it go,"')[0] == "Otto Dorn"  # named last


def test_kin_epithets_and_nationalities_in_an_invented_article():
    """A first name after a relation takes the relative's surname; "the 61-year-old
    singer" and "the Norwegian" are whoever the story is about there; a nationality
    before a capitalised word names no one; a clause about a thing is nobody's role."""
    text = (
        "Singer quits the stage\n\n"
        "Lars Eklund, the folk singer, said he would give his last concert in May. "
        '"I have sung for forty years," said the 61-year-old singer. '
        '"It is time," said the Norwegian. '
        "Mr Eklund's daughter Maja said the family would go with him. "
        '"We will miss the road," she said. '
        "Welsh Harriers coach Tom Pryce, whose team plays at the festival, called it sad. "
        '"There is no one like him," said the Harriers coach. '
        "The show Blue Fjord, which was to star Lars Eklund, was dropped. "
        '"We had no choice," said the show\'s producer Ingrid Saeter.\n'
    )
    table = attributed(text)
    assert speaker(table, '"I have sung')[0] == "Lars Eklund"
    assert speaker(table, '"It is time,"')[0] == "Lars Eklund"
    assert speaker(table, "Mr Eklund's daughter Maja") == ("Maja Eklund", "reported")
    assert speaker(table, '"We will miss the road,"')[0] == "Maja Eklund"
    assert speaker(table, '"There is no one like him,"')[0] == "Tom Pryce"
    assert speaker(table, '"We had no choice,"')[0] == "Ingrid Saeter"
    people, _ = find_people(text)
    names = {p.name for p in people}
    assert "Welsh Harriers" not in names and "Maja Eklund" in names
    # A people is no one, and a club that does something is no speaker for "he".
    crowd = attributed(
        "Talks stall\n\nLars Eklund, the trade minister, said the offer stood. "
        "The Chinese said the plan was unacceptable. The Swiss warned of delays.\n\n"
        'Vesta Lund sacked their manager on Monday. "It was the right time," he said.\n'
    )
    assert speaker(crowd, "The Chinese said") == (None, None)
    assert speaker(crowd, "The Swiss warned") == (None, None)
    assert speaker(crowd, '"It was the right time,"')[0] != "Vesta Lund"
    assert next(p for p in people if p.name == "Maja Eklund").gender == "f"
    # A relation "of" someone named is a role of its own, and tells who "she" is.
    kin = (
        "Tribute to Eklund\n\nHe often worked with director Per Holm. "
        "Sofia Dahl, the daughter of singer Lars Eklund, recalled his first concert. "
        '"He sang for us all," she said.\n'
    )
    people, _ = find_people(kin)
    dahl = next(p for p in people if p.name == "Sofia Dahl")
    assert dahl.roles == {"daughter of singer lars eklund"} and dahl.gender == "f"
    assert speaker(attributed(kin), '"He sang for us all,"') == ("Sofia Dahl", "direct")


def test_unnamed_speakers_commas_after_roles_and_coordinated_verbs():
    """'said the charity's director, Ada Holm' is Holm's; "he said" right after "a
    spokesman said" is the spokesman's, not the last named man's; "Ray praised… but
    admitted…" is Ray's, a role noun between the country and the name included."""
    text = (
        "Ferry link to close\n\n"
        '"I have crossed every week for years," said Piet Hollander, a ferry passenger. '
        '"There is no other way to the island," said the charity\'s technology director, '
        "Ada Holm. "
        "The operator says costs have doubled. But a spokesman said its hands were tied. "
        '"Any subsidy would be for the council to consider," he said. '
        "Lund rowing captain Tom Ray praised the crews but admitted the crossing was unsafe.\n"
    )
    table = attributed(text)
    assert speaker(table, '"There is no other way') == ("Ada Holm", "direct")
    assert speaker(table, '"Any subsidy would be')[0] is None
    assert speaker(table, "Lund rowing captain Tom Ray") == ("Tom Ray", "reported")
    # A passive's agent is the speaker of the participle right before "by", and a name
    # inside "the daughter of activist…" is not the subject.
    table = attributed(
        "Ana Rask, the daughter of composer Ivo Rask, recalled the song written by Lars Berg. "
        "The plan was dismissed as 'absurd' by Mayor Tove Lind. "
        "The figure announced by President Ola Dahl is lower.\n"
    )
    assert speaker(table, "Ana Rask, the daughter")[0] == "Ana Rask"
    assert speaker(table, "The plan was dismissed")[0] == "Tove Lind"
    assert speaker(table, "The figure announced")[0] == "Ola Dahl"
    # An active verb with an object before "by" has no agent: the sentence's subject speaks.
    table = attributed("Coach Eva Holm blamed her defeat by Ana Lind on injuries.\n")
    assert speaker(table, "Coach Eva Holm") == ("Eva Holm", "reported")
    # An apposition missing its closing comma may open with its role noun; one that
    # names someone else is no apposition of the name before it.
    table = attributed(
        "Rates\n\nAda Holm, economist at Lund Capital said rates would rise. "
        "Without striker Ivo Stam, coach Per Berg has not had to contend with injuries.\n"
    )
    assert speaker(table, "Ada Holm, economist") == ("Ada Holm", "reported")
    assert speaker(table, "Without striker Ivo Stam")[0] != "Ivo Stam"


def test_the_verb_that_opens_a_quotation_governs_it_and_acts_of_speech_count():
    """ "Holm accused the club…, but Jensen explained: "…"" gives the quotation (and its
    next sentences) to Jensen, or to no one when Jensen is no named person; "and added:"
    has the clause's subject. "Accused", "blamed", "singled out", "hit out" report
    speech; "thanks to" does not."""
    text = (
        "Club rejects claim\n\n"
        "Striker Ivo Holm accused the club of lying, but Jensen explained: "
        '"We never lied to him. We offered a new deal."\n\n'
        "His agent, Mia Falk, told reporters it was absurd and added: "
        '"He will leave in the summer."\n\n'
        "Coach Tom Ray has singled out two young players. Ray also hit out at the referee. "
        "Thanks to Ray, the club is top.\n"
    )
    table = attributed(text)
    assert speaker(table, "Striker Ivo Holm")[0] is None
    assert speaker(table, "We offered a new deal")[0] is None
    assert speaker(table, "His agent, Mia Falk") == ("Mia Falk", "direct")
    assert speaker(table, "Coach Tom Ray") == ("Tom Ray", "reported")
    assert speaker(table, "Ray also hit out") == ("Tom Ray", "reported")
    assert speaker(table, "Thanks to Ray") == (None, None)
    named = attributed(text.replace("but Jensen explained", "but Piet Jensen explained"))
    assert speaker(named, "Striker Ivo Holm") == ("Piet Jensen", "direct")
    assert speaker(named, "We offered a new deal") == ("Piet Jensen", "direct")


def test_organisations_named_like_people_relative_clauses_and_quotations_running_on():
    """ "investment bank Orchard Weston said" is an organisation's words, unless the
    article calls someone by its last word; "ruled out for a month" and "wrote a memoir"
    give no words, "ruled out a return" and "wrote an email saying" do; a pronoun
    opening a relative clause ("over a fee he says he was promised") is not the
    sentence's speaker, one after an opening phrase ("At the weekend he said") is; a
    quotation opening the paragraph after a sentence whose subject is the last speaker,
    and a partial quotation closing the next sentence, go on with them, but not a name
    for a thing ("dubbed it…") or a sentence merely naming them; "-ish" and "-ese" end
    a nationality, not "Tom Kellish" or "Ada Lorese"; an opener or a position ("Wing")
    starting a run is no first name, but ends one ("Lee Soon"); a word of organisations
    ("Lake") after a role may be a first name."""
    text = (
        "Rovers sell their ground\n\n"
        '"Sales will slow this year," investment bank Orchard Weston said. '
        "The insurer Tova Reed said claims would rise.\n\n"
        "Wing Ivo Marten says the side can still win the league. "
        "Marten was ruled out for a month with a knee injury. "
        "Captain Tom Kellish has ruled out a return to the national side. "
        "At the weekend he said the club would recover.\n\n"
        'Coach Ada Lorese said: "We were poor. We go again on Sunday." '
        "Lorese left the ground early.\n\n"
        '"Varna defended well all night." '
        'The town is a "place that must have a new stadium".\n\n'
        "Striker Per Holm is appealing against the club over a fee he says he was promised. "
        "Holm wrote a memoir last year. Holm wrote an email saying he would stay.\n\n"
        '"The plan is sound," said coach Lake Ostby. '
        'Fans of the club have dubbed it a "plan for the few".\n\n'
        '"The roof is done," said Rui Falk. The council named it a "roof for the whole town".\n\n'
        '"We need rest," said Lee Soon. Ana Lind, who once coached Soon, disagrees.\n\n'
        '"He is wrong about the rest."\n\n'
        'She joined the band Eva Moss formed in 1990. "It was loud," Moss said.\n'
    )
    table = attributed(text)
    assert speaker(table, '"Sales will slow') == (None, None)
    assert speaker(table, "The insurer Tova Reed") == (None, None)
    assert speaker(table, "Wing Ivo Marten") == ("Ivo Marten", "reported")
    assert speaker(table, "Marten was ruled out") == (None, None)
    assert speaker(table, "Captain Tom Kellish") == ("Tom Kellish", "reported")
    assert speaker(table, "At the weekend he said") == ("Tom Kellish", "reported")
    assert speaker(table, '"Varna defended well') == ("Ada Lorese", "direct")
    assert speaker(table, "The town is a") == ("Ada Lorese", "direct")
    assert speaker(table, "Striker Per Holm is appealing") == (None, None)
    assert speaker(table, "Holm wrote a memoir") == (None, None)
    assert speaker(table, "Holm wrote an email") == ("Per Holm", "reported")
    assert speaker(table, '"The plan is sound,"') == ("Lake Ostby", "direct")
    assert speaker(table, "Fans of the club have dubbed") == (None, None)
    assert speaker(table, "The council named it") == (None, None)
    assert speaker(table, '"We need rest,"') == ("Lee Soon", "direct")
    assert speaker(table, '"He is wrong about the rest."') == (None, None)
    assert speaker(table, '"It was loud,"') == ("Eva Moss", "direct")


def test_first_name_honorifics_and_role_phrases_that_are_no_roles():
    """ "Sir Tom" is Sir Tom Ray's form (not "Sir Ray"); a clause, a list of other people
    or a verb before a role is not the person's role; "-based" is no part of a name."""
    text = (
        "Regatta result\n\n"
        "Lund club president Sir Tom Ray opened the regatta. Sir Tom said the river was high. "
        "Oskar Dahl, the rower he beat in last year's final, was second. "
        "Guests included Eva Lind, actor Jon Berg and writer Mia Falk. "
        "Ray defended coach Ivo Stam after the race. "
        "Varna-based Kestrel sponsored the cup.\n"
    )
    people, _ = find_people(text)
    by = {p.name: p for p in people}
    assert "Sir Tom" in by["Tom Ray"].forms and "Sir Ray" not in by["Tom Ray"].forms
    assert "Sir Tom" not in by  # one person, not a second one called "Sir Tom"
    # A capitalised role opening the sentence, then the honorific: "Coach Sir Tom Ray".
    people, _ = find_people("Coach Sir Tom Ray spoke first. Sir Tom left early.")
    assert [p.name for p in people] == ["Tom Ray"]
    assert by["Oskar Dahl"].roles == set()
    assert by["Eva Lind"].roles == set()
    assert by["Ivo Stam"].roles == {"coach"}
    assert not any("Kestrel" in name for name in by)
    # A surname of two words after "Mr" is the person named in full; a month may be a
    # surname; an initial ending a sentence does not run into the next name.
    text = (
        "Gallery director Piet van Lund Berg said visits rose. Mr Lund Berg added more. "
        "Singer Tova May said she would tour in May. "
        'May said: "We are ready." The band thanked fan club chief Ivo X. Ana Rask spoke too.'
    )
    people, _ = find_people(text)
    by = {p.name: p for p in people}
    assert "Mr Lund Berg" in by["Piet van Lund Berg"].forms and "Lund Berg" not in by
    assert "Tova May" in by and "Ana Rask" in by and "Ivo X" in by
    table = attributed(text)
    assert speaker(table, "Mr Lund Berg added") == ("Piet van Lund Berg", "reported")
    assert speaker(table, "May said:") == ("Tova May", "direct")
    # An initial keeps its full stop: the name is shown as the article writes it.
    people, _ = find_people("Dr Ana E. Lind, the harbour master, said so. Ms Lind agreed.")
    assert [p.name for p in people] == ["Ana E. Lind"]
    # A word opening the sentence before a full name the article writes without it is
    # no first name ("Defiant Ana Lind"); a first name whose rest stands only after an
    # honorific keeps its place ("Ivo Saar Berg" ... "Mr Saar Berg").
    text = (
        "Defiant Ana Lind said the plan stood. Ana Lind, the port chief, spoke later. "
        "Ivo Saar Berg, the gallery's director, said visits rose. Mr Saar Berg added more."
    )
    people, _ = find_people(text)
    names = {p.name for p in people}
    assert "Ana Lind" in names and "Defiant Ana Lind" not in names
    assert "Ivo Saar Berg" in names and "Saar Berg" not in names


def test_a_role_before_a_name_ends_on_its_role_noun():
    """The words before a name are its role only when they end on a role noun, hyphened
    ones included ("scrum-half"), or on "for"/"of" and one word after it: not "a lawyer
    representing", not "… at prop while", and not another person's role and name; a
    verb before the role is none of it, and a noun phrase after a comma with a verb of
    its own is a clause, not the name's apposition."""
    text = (
        "Harbour side win\n\n"
        "Captain Tom Ray and scrum-half Ivo Lund were picked. Aki Sand starts at prop while "
        "Lena Moor sits out. A lawyer representing Mr Lund was in court. His lawyer said he "
        "was fit. Spokeswoman for women Ada Holm backed the coach, as did finance chief "
        "Ola Berg. Director of rugby Per Kask was pleased.\n\n"
        'Centre-back Mia Stig was also glad. "We earned it," she told reporters.\n\n'
        "Ray beat harbour champion Ruth Vale in the sprint. "
        "Ivo Berg, a club spokesman told the Courier.\n"
    )
    people, _ = find_people(text)
    by = {p.name: p for p in people}
    assert by["Ivo Lund"].roles == {"scrum-half"}
    assert by["Lena Moor"].roles == set()
    assert by["Ada Holm"].roles == {"spokeswoman for women"}
    assert by["Ola Berg"].roles == {"finance chief"}
    assert by["Per Kask"].roles == {"director of rugby"}
    assert by["Ruth Vale"].roles == {"harbour champion"}  # not "beat harbour champion"
    assert by["Ivo Berg"].roles == set()  # "…, a club spokesman told …": a clause
    assert "Centre-back Mia Stig" not in by and by["Mia Stig"].roles == {"centre-back"}
    table = attributed(text)
    assert speaker(table, "His lawyer said") == (None, None)
    assert speaker(table, '"We earned it,"') == ("Mia Stig", "direct")


def test_organisations_in_apposition_titles_cut_short_and_someone_elses_role():
    """ "Orchard Re, the Varna insurer, said" is an organisation's word; "Det Supt" and
    "Agent" are no part of a name, nor are "Top-seeded", "Unfortunately" or "Called" at a
    sentence's start; "the singer's manager" is not the singer; a comma's noun phrase
    followed by its own verb is no apposition of the name before it; and "Marrow Vale
    said it would cut jobs" is an organisation speaking."""
    text = (
        "Storm costs\n\n"
        "Orchard Re, the Varna insurer, said claims would pass 2m crowns. "
        "Tova Reed, head of the insurer, said she expected more. "
        "Det Supt Ana Lind said the roads were closed. Agent Tom Ray said his client would "
        "stay.\n\n"
        "Singer Mia Falk will tour in May. The singer's manager said tickets were sold out. "
        "She booked the hall with Per Holm, the band's manager has confirmed.\n"
    )
    people, _ = find_people(text)
    by = {p.name: p for p in people}
    assert "Orchard Re" not in by and by["Tova Reed"].roles == {"head of the insurer"}
    assert "Ana Lind" in by and "Tom Ray" in by and "Agent Tom Ray" not in by
    assert by["Per Holm"].roles == set()
    # Words whose shape says they open the sentence, not a name.
    text2 = (
        "Top-seeded Americans Ana Lind and Per Holm won. Unfortunately Tom Ray lost. "
        "Called Lantern, the film opens today. State-owned Kestrel Oil said it would grow. "
        "Coffee-loving Ray says he will race again.\n"
    )
    assert [p.name for p in find_people(text2)[0]] == ["Ana Lind", "Per Holm", "Tom Ray"]
    assert speaker(attributed(text2), "Coffee-loving Ray") == ("Tom Ray", "reported")
    # A name that is only capitals and speaks of itself as "it" is an organisation's; a
    # person the article also calls by surname may say "it" all the same.
    text3 = (
        "Marrow Vale said it would cut 200 jobs. Ivo Saar said it was a sad day. "
        '"We will fight," Saar said.\n'
    )
    assert [p.name for p in find_people(text3)[0]] == ["Ivo Saar"]
    assert speaker(attributed(text3), "Marrow Vale said") == (None, None)
    assert speaker(attributed(text3), "Ivo Saar said") == ("Ivo Saar", "reported")
    table = attributed(text)
    assert speaker(table, "Orchard Re, the Varna") == (None, None)
    assert speaker(table, "Det Supt Ana Lind") == ("Ana Lind", "reported")
    assert speaker(table, "The singer's manager") == (None, None)


def test_a_role_names_whoever_the_article_gave_it_with_its_words_in_order():
    """ "The world champion" is not "indoor champion and world record holder": the words
    before a role's head noun must stand before it in the role the article gave, which
    keeps its capitalised and numbered modifiers ("Harbour Games 200m champion")."""
    text = (
        "Marr to run in Sorvik\n\n"
        "Harbour Games 200m champion Ilka Marr will run in Sorvik on Sunday. "
        "Indoor champion and world record holder Tomas Vell will race too. "
        '"I feel strong," Marr said. The world champion says she is ready. '
        "The Harbour Games champion will start in lane four. "
        "The indoor champion said he would rest on Monday.\n"
    )
    people, mentions = find_people(text)
    by = {p.name: p for p in people}
    assert by["Ilka Marr"].roles == {"harbour games 200m champion"}
    table = attributed(text)
    # Nobody was given "world champion": the story's speaker there, as for "the 30-year-old".
    assert speaker(table, "The world champion") == ("Ilka Marr", "reported")
    assert ("Ilka Marr", "The Harbour Games champion") in [
        (people[m.person].name, text[m.start : m.end]) for m in mentions if m.kind == "role"
    ]
    assert speaker(table, "The indoor champion") == ("Tomas Vell", "reported")


def test_who_he_is_after_a_sentence_naming_one_person_and_acts_that_give_no_words():
    """ "He said" after a sentence naming one person is theirs, not an earlier speaker's,
    unless the quotation names them (then it is about them) or the sentence before is
    someone's words; a "he said" after an unnamed trader's words is the trader's; "will
    announce" and "pleaded guilty" give no words, "made it clear" and "intimated" do;
    "Former" opens a role, not a name."""
    text = (
        "Ferry strike ends\n\n"
        '"We are back at work," said union leader Ana Lind. '
        "The deal did little for ferry owner Tomas Brenner. "
        '"The owners have won," he said.\n\n'
        "Ivo Saar, the ferry captain, said the boats would run on Monday. "
        "Engineer Per Holm took the first crossing. "
        '"Per has earned it," he said.\n\n'
        '"Fares will not rise," said Karl Dorn, an analyst at Orchard Bank. '
        "One trader, speaking anonymously, told reporters the shares were weak. "
        '"It has been a hard year," he said.\n\n'
        "Port director Lena Varga will announce the new fares on Friday. "
        "Mr Dorn has pleaded not guilty to a separate charge. "
        "Mr Saar made it clear that the crew would not strike again. "
        "Mr Brenner intimated that he would appeal.\n\n"
        "Former Sorvik defender Tom Ray said he was glad. "
        '"It is a good day," he added.\n\n'
        '"We sail at dawn," said Mr Saar. '
        'The union says Mr Holm "has worked for years without a rise". '
        '"He deserves it," he said.\n'
    )
    table = attributed(text)
    assert speaker(table, '"The owners have won,"') == ("Tomas Brenner", "direct")
    assert speaker(table, '"Per has earned it,"') == ("Ivo Saar", "direct")
    assert speaker(table, '"It has been a hard year,"') == (None, None)
    assert speaker(table, "Port director Lena Varga") == (None, None)
    assert speaker(table, "Mr Dorn has pleaded") == (None, None)
    assert speaker(table, "Mr Saar made it clear") == ("Ivo Saar", "reported")
    assert speaker(table, "Mr Brenner intimated") == ("Tomas Brenner", "reported")
    assert speaker(table, "Former Sorvik defender") == ("Tom Ray", "reported")
    assert "Former Sorvik" not in {p.name for p in find_people(text)[0]}
    # The union's words stand between: "he" is the last to speak, not Mr Holm.
    assert speaker(table, '"He deserves it,"') == ("Ivo Saar", "direct")


def test_a_view_stated_with_its_clause_is_reported_and_a_mood_is_not():
    """ "Lind is confident the team will qualify" reports her view; "confident of a win"
    and "remained hopeful." give no words; "made clear progress" is no speech, and a
    view's subject stands before it ("The club is confident Ana Lind will stay" is the
    club's)."""
    text = (
        "Lind eyes title\n\n"
        "Sprinter Ana Lind is confident the team will qualify. "
        "Coach Tomas Brenner was concerned that the track was wet. "
        "Per Holm was confident of a medal. Ivo Saar remained hopeful. "
        "Ana Lind made clear progress in the heats. "
        "The club, however, is confident Ana Lind will stay.\n"
    )
    table = attributed(text)
    assert speaker(table, "Sprinter Ana Lind") == ("Ana Lind", "reported")
    assert speaker(table, "Coach Tomas Brenner") == ("Tomas Brenner", "reported")
    assert speaker(table, "Per Holm was confident") == (None, None)
    assert speaker(table, "Ivo Saar remained") == (None, None)
    assert speaker(table, "Ana Lind made clear progress") == (None, None)
    assert speaker(table, "The club, however,") == (None, None)


def test_a_name_inside_a_relative_clause_before_the_verb_is_not_its_subject():
    """ "The Harbour Trust, which acts for Ana Lind, said" is the trust's word; "Tom Ray,
    who trains Ivo Saar, said" is Tom Ray's; a clause the verb stands in ("…, which Ms
    Lind described as "a gift"") and a stage name ("The Fox, whose real name is Per Holm,
    said") still give the name, and so does a "whose" or "where" clause whose subject
    the name is."""
    text = (
        "Harbour case\n\n"
        "Sprinter Ana Lind won in Sorvik. "
        "The Harbour Trust, which acts for Ana Lind and Ivo Saar, said the case would go on. "
        "Coach Tom Ray, who trains Ivo Saar, said he was pleased. "
        'She won the cup, which Ms Lind described as "a gift". '
        "The Fox, whose real name is Per Holm, told reporters he would sing. "
        "It was a blow for Varna Rovers, whose striker Lena Varga, 24, said the club had "
        "let her down.\n"
    )
    table = attributed(text)
    assert speaker(table, "The Harbour Trust") == (None, None)
    assert speaker(table, "Coach Tom Ray") == ("Tom Ray", "reported")
    assert speaker(table, "She won the cup") == ("Ana Lind", "direct")
    assert speaker(table, "The Fox") == ("Per Holm", "reported")
    assert speaker(table, "It was a blow") == ("Lena Varga", "reported")


def test_a_nickname_inside_a_name_is_one_of_its_forms_and_no_quotation():
    """ "Tomas 'Tomi' Vell" is Tomas Vell, and "Tomi said" is his; "Lena "LV" Varga" is
    Lena Varga; the marks around a nickname quote nobody, while "'a disgrace'" does; a
    nickname that is a word ("Head") names no one before a noun, and a headline's quoted
    word or a one-letter "N" is no nickname."""
    text = (
        "Tomi says sorry\n\n"
        "Tomas 'Tomi' Vell has apologised to the fans. "
        'Tomi said: "I was wrong." '
        'Lena "LV" Varga, chair of the Sorvik club, said: "We accept it." '
        "Varga added that the matter was closed. "
        "Per Holm called the apology 'a disgrace'. "
        'The wrestler Ivo "Head" Saar won. '
        "Head coach Karl Dorn was at ringside and said the bout was fair. "
        "Lund 'N' Roses said the dates were set.\n"
    )
    people, _ = find_people(text)
    by = {p.name: p for p in people}
    assert {"Tomas Vell", "Lena Varga", "Ivo Saar"} <= set(by)
    assert "Tomi" in by["Tomas Vell"].forms and "LV" in by["Lena Varga"].forms
    assert "Lund Roses" not in by
    table = attributed(text)
    assert speaker(table, "Tomi says sorry") == ("Tomas Vell", "reported")
    assert speaker(table, "Tomas 'Tomi' Vell") == ("Tomas Vell", "reported")
    assert speaker(table, "Tomi said:") == ("Tomas Vell", "direct")
    assert speaker(table, 'Lena "LV" Varga') == ("Lena Varga", "direct")
    assert speaker(table, "Varga added") == ("Lena Varga", "reported")
    assert speaker(table, "Per Holm called") == ("Per Holm", "direct")
    assert speaker(table, "Head coach Karl Dorn") == ("Karl Dorn", "reported")
    headline = (
        "Lind 'Happy' With Win\n\nAna Lind won in Sorvik. \"It was a great day,\" she said.\n"
    )
    assert speaker(attributed(headline), '"It was a great day,"') == ("Ana Lind", "direct")
    registry = People(
        [
            (
                "a.txt",
                [ArticlePerson(p.name, p.gender, tuple(sorted(p.forms)), ()) for p in people],
                Counter({"Tomas Vell": 3, "Lena Varga": 2}),
            )
        ]
    )
    assert registry.resolve("Tomi") == ("Tomas Vell",)
    assert registry.resolve("Tomas 'Tomi' Vell") == ("Tomas Vell",)


def test_words_of_research_bodies_and_firms_make_a_run_of_capitals_no_person():
    """ "Orvik Research", "the Lund Intelligence Unit", "Varna Financial": bodies, whose
    words are no one's; the person who speaks for them is still theirs, and a role inside
    the capitals ("Research Fellow Ana Lind") leaves the name."""
    text = (
        "Ferries grow\n\n"
        "A survey by Orvik Research found that ferry use was rising. "
        "Varna Financial said losses would be small. "
        "Fares could fall, according to the Lund Intelligence Unit's Mr Hale. "
        '"That way the firm wins," he told reporters. '
        "Research Fellow Ana Lind said the survey was sound.\n"
    )
    names = {p.name for p in find_people(text)[0]}
    assert not names & {"Orvik Research", "Varna Financial", "Intelligence Unit"}
    bodies = "Lund Boerse told reporters the plan was sound. Varna Banque said talks went on.\n"
    assert find_people(bodies)[0] == []
    table = attributed(text)
    assert speaker(table, "Varna Financial said") == (None, None)
    assert speaker(table, '"That way the firm wins,"') == ("Mr Hale", "direct")
    assert speaker(table, "Research Fellow Ana Lind") == ("Ana Lind", "reported")


def test_whose_agent_speaks_is_not_who_speaks():
    """'"…," said Lind's manager Tom Ray' is Tom Ray's; "Ana Lind will wed Per Holm, the
    actor's spokesman has confirmed" is no one's named (the spokesman is neither)."""
    text = (
        "Lind to wed\n\n"
        "Actor Ana Lind will wed banker Per Holm, the actor's spokesman has confirmed. "
        '"The tour goes on," said Lind\'s manager Tom Ray. '
        '"It was a long night," said Sorvik Rovers\' Ivo Saar.\n'
    )
    table = attributed(text)
    assert speaker(table, "Actor Ana Lind") == (None, None)
    assert speaker(table, '"The tour goes on,"') == ("Tom Ray", "direct")
    assert speaker(table, '"It was a long night,"') == ("Ivo Saar", "direct")


def test_a_parenthesis_between_dashes_and_an_organisation_noun_opening_a_name():
    """ "Mr Hale - himself a former minister - said" is Hale's; "Consultancy Tova Reed
    predicts…" is a firm's."""
    text = (
        "Ferry shares\n\n"
        "Investor Ana Hale - who owns a tenth of the line - said she would sell. "
        '"The price is wrong," Tom Ray - at the time chair of the line - told reporters. '
        "Consultancy Tova Reed predicts a fall in sales.\n"
    )
    table = attributed(text)
    assert speaker(table, "Investor Ana Hale") == ("Ana Hale", "reported")
    assert speaker(table, '"The price is wrong,"') == ("Tom Ray", "direct")
    assert speaker(table, "Consultancy Tova Reed") == (None, None)
    assert "Tova Reed" not in {p.name for p in find_people(text)[0]}


def test_time_words_before_the_verb_a_verb_coordinated_after_commas_and_agreeing_to_act():
    """ "Ana Hale on Friday told…" is hers; "Tom Ray, of the Lund Players, was away but
    said…" is his, while "…, and her coach was furious but said…" is not Lind's; '"…,"
    Ivo Saar, from the Varna Guild (VG) told…' is his; "agreed to buy" gives no words,
    "agreed to some extent that" does."""
    text = (
        "Guild deal\n\n"
        "Guild chief Ana Hale on Friday told reporters that the bid had failed. "
        "Tom Ray, of the Lund Players, was away on tour but said he would come. "
        "Ana Lind missed the final with a knee injury, and her coach was furious but said "
        "she would be back. "
        '"It is a good deal," Ivo Saar, from the Varna Guild (VG) told the radio. '
        "Per Holm has agreed to buy a third of the guild. "
        "Karl Dorn agreed to some extent that the price was high.\n"
    )
    table = attributed(text)
    assert speaker(table, "Guild chief Ana Hale") == ("Ana Hale", "reported")
    assert speaker(table, "Tom Ray, of the") == ("Tom Ray", "reported")
    assert speaker(table, "Ana Lind missed") == (None, None)
    assert speaker(table, '"It is a good deal,"') == ("Ivo Saar", "direct")
    assert speaker(table, "Per Holm has agreed") == (None, None)
    assert speaker(table, "Karl Dorn agreed") == ("Karl Dorn", "reported")


def test_a_participle_before_an_honorific_and_a_dropped_comma_before_an_inverted_said():
    """ "Answering Mr Hale said…" is Mr Hale's; "…no reason to wait said Tom Ray, head of
    the guild." is Tom Ray's though the copy dropped the comma; "…said Per Holm, 45, had
    been charged" reports about him, and "…has added Ivo Saar." adds him to a team."""
    text = (
        "Fares\n\n"
        "Answering Mr Hale said the fares must rise. "
        "There is no reason to wait any longer for the new ferry said Tom Ray, head of the "
        "Lund guild. "
        "A spokesman for the Sorvik police force said Per Holm, 45, had been charged. "
        "For the final in Sorvik next week the coach has added Ivo Saar.\n"
    )
    table = attributed(text)
    assert speaker(table, "Answering Mr Hale") == ("Mr Hale", "reported")
    assert speaker(table, "There is no reason") == ("Tom Ray", "reported")
    assert speaker(table, "A spokesman for") == (None, None)
    assert speaker(table, "For the final") == (None, None)


def test_a_name_and_its_colon_continued_hinted_and_acts_that_look_like_speech():
    """ "Rovers boss Tom Ray: "We…"" is his, a rating ("Goalkeeper Ana Lind: "Solid."")
    nobody's; "He continued: "…"" and "hinted" are speech, "continued, despite the pain",
    "urged to stay" and "claimed the title" are not, while "claimed that…" and "claimed
    the title was…" are; "Ivo Voice said" is a name, a headline's "Ana Lind Says" is
    not; '"…," said Dorsey Kell economist Per Holm' is the economist's, '"…," said Ana
    Lind of captain Tom Ray' hers; of "Ana Lind and captain Karl Dorn said", the first
    named, but not of "The board sacked Ana Lind and chairman Karl Dorn said"."""
    text = (
        "Talks Go On, Ana Lind Says\n\n"
        'Rovers boss Tom Ray: "We were the better side." '
        'He continued: "The fans were superb." '
        'Goalkeeper Ana Lind: "Solid all afternoon." '
        "Ana Lind continued, despite the pain. "
        "Lind urged to stay at Rovers. "
        "Ana Lind claimed the title in Sorvik. "
        "Ivo Saar claimed that the points deduction was unfair. "
        "Per Holm claimed the title was decided by the referee. "
        "Mr Dorn is not convinced the club can afford her. "
        "Striker Ana Lind has hinted she will leave. "
        'His agent Ivo Voice said: "She is happy." '
        '"Rates will rise," said Dorsey Kell economist Per Holm. '
        '"He was superb today," said Ana Lind of captain Tom Ray. '
        "Ana Lind and captain Karl Dorn said they would stay. "
        "The board sacked striker Ana Lind and chairman Karl Dorn said it was right.\n"
    )
    table = attributed(text)
    assert speaker(table, "Talks Go On") == ("Ana Lind", "reported")
    assert "Ana Lind Says" not in {p.name for p in find_people(text)[0]}
    assert speaker(table, "Rovers boss Tom Ray") == ("Tom Ray", "direct")
    assert speaker(table, "He continued") == ("Tom Ray", "direct")
    assert speaker(table, "Goalkeeper Ana Lind") == (None, None)
    assert speaker(table, "Ana Lind continued") == (None, None)
    assert speaker(table, "Lind urged") == (None, None)
    assert speaker(table, "Ana Lind claimed") == (None, None)
    assert speaker(table, "Ivo Saar claimed") == ("Ivo Saar", "reported")
    assert speaker(table, "Per Holm claimed") == ("Per Holm", "reported")
    assert speaker(table, "Mr Dorn is not convinced") == ("Karl Dorn", "reported")
    assert speaker(table, "Striker Ana Lind") == ("Ana Lind", "reported")
    assert speaker(table, "His agent Ivo Voice") == ("Ivo Voice", "direct")
    assert speaker(table, '"Rates will rise,"') == ("Per Holm", "direct")
    assert speaker(table, '"He was superb today,"') == ("Ana Lind", "direct")
    assert speaker(table, "Ana Lind and captain") == ("Ana Lind", "reported")
    assert speaker(table, "The board sacked") == ("Karl Dorn", "reported")
    # An inverted verb opening the sentence, in an article that never writes it in lower case
    inverted = 'Ray happy\n\nCoach Tom Ray won again. Said Ray: "It was a long season."\n'
    assert speaker(attributed(inverted), "Said Ray") == ("Tom Ray", "direct")
    assert "Said Ray" not in {p.name for p in find_people(inverted)[0]}


def _assert_engine_never_writes(pattern: re.Pattern) -> None:
    for path in (ROOT / "rag").rglob("*.py"):
        found = pattern.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(ROOT)} names {sorted(set(found))}"


def test_no_person_role_or_spelling_of_the_seeds_is_written_into_the_engine():
    """The engine learns people from the text: nothing in rag/ may name the seeds'."""
    names: set[str] = set()
    for path in (ROOT / "seeds").glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        spoken, _, _ = attribute(text, split_sentences(text))
        names.update(part for who, _ in spoken if who for part in (who, who.split()[-1]))
    names |= {"rutten", "butscha", "zelenskyy", "buitenhof", "digi24", "crbc"}
    assert len(names) > 5
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b", re.I)
    _assert_engine_never_writes(pattern)


def test_no_person_of_the_bbc_eval_is_written_into_the_engine():
    """Nor the people of the corpus it is developed on: the full names the BBC eval
    labels as speakers (kept in the repository, so this needs no corpus)."""
    names = {
        row["speaker"]
        for name in ("speakers.jsonl", "qa.jsonl")
        for line in (ROOT / "eval" / "bbc" / name).read_text(encoding="utf-8").splitlines()
        if (row := json.loads(line)).get("speaker")
    }
    assert len(names) > 100
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b")
    _assert_engine_never_writes(pattern)


# The analysis of each fingerprinted corpus as of each SPLITTER: when attribution or
# sentence splitting changes, an index built before must be analysed again, so SPLITTER
# must change with it. Record the new version's fingerprints here when it does.
ANALYSED = {
    "syntok+rules-3, people-26, speakers-21": {
        "seeds": "d86d94be9f934ac6",
        "bbc": "3be832598cd8d27b",
    },
}


def _fingerprint(folder: Path) -> str:
    """Of the articles as the index reads them (`rag.corpus.scan`, bad files skipped)."""
    digest = hashlib.sha256()
    for document in scan(folder, Settings().max_file_bytes).documents:
        text = document.text
        spans = split_sentences(text)
        spoken, people, _ = attribute(text, spans)
        digest.update(document.source.encode())
        for s, (who, mode) in zip(spans, spoken, strict=True):
            digest.update(f"{s.start} {s.end} {who} {mode}\n".encode())
        for p in people:
            digest.update(f"{p.name}|{p.gender}|{sorted(p.forms)}|{sorted(p.roles)}\n".encode())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("name", ["seeds", "bbc"])
def test_the_analysis_version_changes_when_the_analysis_does(name):
    """An index records the SPLITTER it was analysed by, and is analysed again when it
    differs: a change of speakers or people kept under the old SPLITTER would leave every
    index built before showing the old speakers."""
    folder = ROOT / corpus(name).corpus_dir
    if not folder.is_dir():
        pytest.skip(f"{name}: no articles at {corpus(name).corpus_dir.as_posix()}")
    assert SPLITTER in ANALYSED, f"record the fingerprints of {SPLITTER!r} in ANALYSED"
    assert _fingerprint(folder) == ANALYSED[SPLITTER][name], (
        f"the analysis of {name} changed under {SPLITTER!r}: change SPLITTER "
        "(rag/store/pipeline.py) and record the new fingerprints in ANALYSED"
    )


# --- Questions about people, over a corpus written here --------------------------------------

CORPUS = {
    "ferry.txt": ARTICLE,
    "mill.txt": (
        "Mill to close after 90 years\n\n"
        "Karl Dorn, who has run the Ostby mill since 1998, said it would close in June. "
        '"The orders have simply gone," Mr Dorn said. '
        "Mayor Lena Dorn, his cousin, said the town would miss its oldest employer.\n"
    ),
    "grain.txt": (
        "Grain prices climb\n\n"
        "Grain prices rose for a third week. Karl Dorn said the mill had nothing to do with it. "
        "Analysts expect a further rise in spring.\n"
    ),
    "film.txt": (
        "Lantern Bay comedy tops the Varna box office\n\n"
        "The comedy took 4m crowns in its first weekend, twice what its makers had hoped. "
        '"It is just a warm, silly picture for the holidays," said Nils Ekberg, who runs '
        "distribution at the studio.\n"
    ),
}


@pytest.fixture(scope="module")
def invented(tmp_path_factory, embedder, write_articles) -> Assistant:
    base = tmp_path_factory.mktemp("people")
    return Assistant(write_articles(base / "corpus", CORPUS), base / "index", embedder=embedder)


def test_people_lists_each_person_once_with_forms_roles_counts_and_articles(invented):
    people = {p.name: p for p in invented.people()}
    dorn = people["Karl Dorn"]
    assert dorn.articles == ("grain.txt", "mill.txt")  # one person per full name
    assert "Mr Dorn" in dorn.forms and dorn.sentences >= 3
    assert people["Lena Dorn"].articles == ("mill.txt",)
    assert "mayor" in people["Lena Dorn"].roles
    assert [p.sentences for p in invented.people()] == sorted(
        (p.sentences for p in invented.people()), reverse=True
    )


def test_a_persons_roles_list_the_one_most_articles_give_first():
    """The people table shows a person's first role: the one most of their articles give
    them ("harbour champion"), not the shortest or the first in the alphabet."""
    lund = ("Ivo Lund", "m", ("Ivo Lund",))
    people = People(
        [
            ("a.txt", [ArticlePerson(*lund, ("compatriot", "harbour champion"))], Counter()),
            ("b.txt", [ArticlePerson(*lund, ("harbour champion",))], Counter()),
            ("c.txt", [ArticlePerson(*lund, ("rower", "harbour champion"))], Counter()),
        ]
    )
    info = people.get("Ivo Lund")
    assert info is not None and info.roles == ("harbour champion", "rower", "compatriot")


def test_a_name_asked_with_a_hyphenated_title_or_a_plural_possessive_is_the_name():
    """ "Vice-President Lund" is Lund as "Vice President Lund" is; "the Pilots' Ivo Lund"
    is Ivo Lund as "the Guild's Ivo Lund" is."""
    lund = ArticlePerson("Ivo Lund", "m", ("Ivo Lund", "Mr Lund"), ("vice president",))
    people = People([("a.txt", [lund], Counter())])
    for asked in ("Vice-President Lund", "Vice President Lund", "Harbour Pilots' Ivo Lund"):
        assert people.resolve(asked) == ("Ivo Lund",), asked


def test_a_question_by_surname_finds_both_people_of_that_name(invented):
    answer = invented.ask("What did Dorn say about the mill?")
    assert not answer.abstained and answer.speaker_found
    assert {q.speaker for q in answer.quotes[:2]} <= {"Karl Dorn", "Lena Dorn"}
    assert answer.quotes[0].speaker in {"Karl Dorn", "Lena Dorn"}


def test_a_quote_of_the_person_asked_for_holds_the_rest_of_their_words(invented):
    """Their statement goes on after the sentence that names them: the quote does too,
    verbatim, and no further than their words."""
    answer = invented.ask("What did Ms Varga say about the bridge?")
    first = answer.quotes[0]
    assert first.speaker == "Ines Varga"
    assert "goodwill" in first.text and "come from somewhere" in first.text
    source = CORPUS[first.source]
    assert source[first.start : first.end] == first.text
    assert "Tomas Brenner" not in first.text and len(first.text) < 260


@pytest.mark.parametrize(
    "question, person",
    [
        ("What did Ines Varga say about the tolls?", "Ines Varga"),
        ("What did Ms Varga say about the bridge?", "Ines Varga"),
        ("How did Varga describe the money for the bridge?", "Ines Varga"),
        ("What did the finance minister say about the tolls?", "Ines Varga"),
        ("According to Brenner, what happened to freight traffic?", "Tomas Brenner"),
        ("What was Mr Dorn's reaction to the orders?", "Karl Dorn"),
        ("What did Vagra say about the tolls?", "Ines Varga"),  # a slip of the keyboard
        # However long what they are, and wherever "according to" stands.
        (
            "What did Lund Shippers Association head Tomas Brenner say about small firms?",
            "Tomas Brenner",
        ),
        ("Why will the tolls rise, according to finance minister Ines Varga?", "Ines Varga"),
        ("What sort of firms did Tomas Brenner say the rise would hurt?", "Tomas Brenner"),
        ("How did Nils Ekberg rate the Lantern Bay comedy?", "Nils Ekberg"),
        ("How does Karl Dorn justify closing the mill?", "Karl Dorn"),
    ],
)
def test_the_person_asked_for_is_quoted_first(invented, question, person):
    answer = invented.ask(question)
    assert answer.quotes and answer.quotes[0].speaker == person, answer.markdown
    assert f"— {person}, in" in answer.markdown


def test_a_person_who_never_spoke_on_the_topic_is_said_so(invented):
    """The note says so; the closest quotes follow, and the closest of their words are
    among them (Weights.speaker_unfound), after what is on the topic."""
    answer = invented.ask("What did Brenner say about grain prices?")
    assert answer.speaker_found is False
    assert (
        answer.note
        == "Tomas Brenner is not quoted on this in the articles; the closest quotes follow."
    )
    assert "Grain prices" in answer.quotes[0].text
    assert "Tomas Brenner" in {q.speaker for q in answer.quotes}


def test_a_refusal_about_a_person_the_articles_name_says_so_by_name(invented):
    """Nothing in the articles answers, so nothing is quoted; the answer still says that
    the person asked for is known but not quoted on it, not only that nothing answers."""
    answer = invented.ask("What did Brenner say about volcanic eruptions on the moon?")
    assert answer.quotes == ()
    assert answer.note == "Tomas Brenner is not quoted on this in the articles."
    assert "Tomas Brenner is not quoted on this" in answer.text
    assert not invented.ask("What is the population of Neptune?").note


def test_a_quote_is_about_what_its_headline_is_about(invented):
    """His words do not name the film, the headline over them does: they count as his
    words on it, and less so without the headline (Confidence.headline = 0)."""
    question = "How did Nils Ekberg describe the Lantern Bay comedy?"
    answer = invented.ask(question)
    assert answer.speaker_found and answer.quotes[0].speaker == "Nils Ekberg"
    settings = replace(
        invented.settings, confidence=replace(invented.settings.confidence, headline=0.0)
    )
    blind = Assistant(invented.corpus_dir, invented.index_dir, settings, embedder=invented.embedder)
    assert blind.ask(question).speaker_confidence < answer.speaker_confidence


def test_a_name_the_articles_use_for_no_person_is_not_said_to_be_missing(
    tmp_path, embedder, write_articles
):
    """The articles use "Ana Lindgren" (for a foundation), though no person is called so:
    the question is answered as one asking for no one's words, not refused as about
    someone the articles never name. A name they never use still is."""
    corpus = write_articles(
        tmp_path / "corpus",
        {
            "bridge.txt": "Bridge money found\n\nThe Ana Lindgren Foundation will pay for the "
            "new bridge at Lund. Work on the bridge starts in May.\n"
        },
    )
    a = Assistant(corpus, tmp_path / "index", embedder=embedder)
    assert not a.resolve_person("Ana Lindgren")
    answer = a.ask("What did Ana Lindgren say about the bridge?")
    assert not answer.note.startswith("No one called")
    assert any("bridge" in q.text for q in answer.quotes)
    assert a.ask("What did Olga Petrovna say about the bridge?").note.startswith("No one called")


def test_according_to_a_newspaper_at_the_end_is_no_unknown_person(invented):
    """ "…, according to the Lund Gazette?" names a paper, not a person the articles lack:
    the question is answered from the articles, not refused by name."""
    answer = invented.ask("How far did freight traffic fall, according to the Lund Gazette?")
    assert not answer.note.startswith("No one called")
    assert any("freight traffic fell" in q.text for q in answer.quotes)


def test_a_person_unknown_to_the_corpus_is_said_so_and_nothing_is_quoted(invented):
    answer = invented.ask("What did Olga Petrovna say about the tolls?")
    assert answer.abstained and answer.quotes == ()
    assert "Olga Petrovna" in answer.note and "named in the articles" in answer.note


def test_a_follow_up_naming_a_new_person_is_a_new_question(invented):
    first = "What did Varga say about the tolls?"
    answer = invented.ask("And what did Brenner say about the rise?", history=[first])
    assert answer.resolved_question == "What did Brenner say about the rise?"
    assert answer.quotes[0].speaker == "Tomas Brenner"


def test_seed_articles_attribute_the_usual_forms(seeds_index, embedder):
    """Hard cases of the seeds, all general forms: 'he added', a quotation running on,
    'according to', a role standing for a person, and narration."""
    assistant = Assistant(*seeds_index, embedder=embedder)
    cases = {
        "“I wouldn’t take them": "direct",
        "Of course, we need": "direct",
        "He cautioned that": "reported",
        "According to Rutte": "reported",
        "The Secretary General emphasizes": "reported",
    }
    seen = {}
    for doc in assistant.documents():
        for s in assistant.sentences(doc.source):
            text = doc.text[s.start : s.end]
            for start in cases:
                if text.startswith(start):
                    seen[start] = (s.speaker, s.speech)
    assert {k: v[1] for k, v in seen.items()} == cases
    assert len({v[0] for v in seen.values()}) == 1  # one person throughout


def test_reading_a_question_is_a_step_of_its_own(invented):
    """read_question: whose words are wanted, on what, and who that can be."""
    from rag.query import read_question

    people = invented._index.people
    settings = invented.settings
    r = read_question("What did Ms Varga say about the tolls?", (), people, settings)
    assert (r.who, r.people, r.unknown, r.topic) == (
        "Ms Varga",
        ("Ines Varga",),
        False,
        "the tolls",
    )
    assert r.dense_texts == ("Ms Varga on the tolls", "the tolls") and r.topic_terms == {"toll"}
    shared = read_question("What did Dorn say?", (), people, settings)
    assert set(shared.people) == {"Karl Dorn", "Lena Dorn"}
    unknown = read_question("What did Olga Petrovna say?", (), people, settings)
    assert unknown.unknown and unknown.people == ()
    firm = read_question("What did Orchard say about it?", (), people, settings)
    assert not firm.unknown and firm.people == ()  # one capitalised word may be a firm
    paper = read_question("What did the Lund Evening Times call it?", (), people, settings)
    assert not paper.unknown  # a newspaper is no person missing from the corpus
    named = read_question("Where did Brenner's association appeal?", (), people, settings)
    assert named.who is None and "Brenner" not in named.dense_texts[0]
    assert "brenner" in named.terms  # BM25 keeps the name
    follow = read_question(
        "And about the bridge?", ("What did Varga say about tolls?",), people, settings
    )
    assert follow.resolved == "What did Varga say about the bridge?" and follow.who == "Varga"


def test_a_statement_repeated_in_a_second_article_is_one_quote_with_one_other_place(
    tmp_path, embedder
):
    """A wire story run twice: the person's two sentences, repeated one by one in the
    other article, are one other place of the quote, not two."""
    statement = (
        "Ferry chief Ada Holm said the crossing would close in winter. "
        '"We cannot run boats on an empty harbour," Ms Holm said.'
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(f"Ferry to stop\n\n{statement}\n", encoding="utf-8")
    (corpus / "b.txt").write_text(
        f"Winter timetable\n\nThe timetable changes in May. {statement}\n", encoding="utf-8"
    )
    assistant = Assistant(corpus, tmp_path / "index", embedder=embedder)
    answer = assistant.ask("What did Ada Holm say about the crossing?")
    first = answer.quotes[0]
    assert first.speaker == "Ada Holm" and "empty harbour" in first.text
    assert len(first.also) == 1
    other = first.also[0]
    text = (corpus / other.source).read_text(encoding="utf-8")
    assert other.source != first.source and text[other.start : other.end] == first.text


def test_a_quote_speaks_with_one_voice(tmp_path, embedder, write_articles):
    """A quote is shown with one speaker, so it never grows over a neighbour spoken by
    someone else or by no one: the narration beside a person's words, however close to
    the question, is not shown as theirs."""
    articles = {
        "ferry.txt": (
            "Ferry fares frozen\n\n"
            "The Ostby ferry company will freeze its fares until the spring. "
            '"Passengers have had a hard year and the fares freeze is our answer," said Mira '
            "Holt, the company's chief executive. The fares freeze will cost the ferry company "
            "about 2m crowns, analysts estimate. Rival operator Kestrel Lines said it would "
            "keep its own fares as they are.\n"
        ),
        "mill.txt": (
            "Mill workers strike\n\n"
            "Workers at the Varna paper mill walked out on Tuesday over pay. "
            '"We will stay out until the offer improves," said union leader Jon Berg. '
            "The strike is the mill's first in 20 years.\n"
        ),
    }
    assistant = Assistant(
        write_articles(tmp_path / "corpus", articles), tmp_path / "index", embedder=embedder
    )
    spoken = {}  # per article, each sentence with its speaker
    for name, text in articles.items():
        spans = split_sentences(text)
        spoken[name] = [
            (s, who) for s, (who, _) in zip(spans, attribute(text, spans)[0], strict=True)
        ]
    answer = assistant.ask("What did Mira Holt say about the fares freeze?")
    assert answer.quotes and answer.quotes[0].speaker == "Mira Holt"
    assert "analysts estimate" not in answer.quotes[0].text
    for question in (
        "What did Mira Holt say about the fares freeze?",
        "What about the fares freeze?",
        "Why are ferry fares frozen?",
        "What did Jon Berg say about the strike?",
        "Why did the mill workers strike?",
    ):
        for quote in assistant.ask(question).quotes:
            voices = {
                who
                for s, who in spoken[quote.source]
                if s.start < quote.end and s.end > quote.start
            }
            assert voices == {quote.speaker}, (question, quote.text, voices)


def test_a_list_item_of_someones_words_is_quoted_as_body_text_is(
    tmp_path, embedder, write_articles
):
    """Match previews set managers' words out as list items ("- Rovers boss Tom Ray:
    "…""): the engine attributes them, and an answer quotes them, though a list item
    that is no one's words still yields to body text."""
    articles = {
        "cup.txt": (
            "Rovers face Varna in cup\n\n"
            "Lund Rovers host Varna City in the cup on Saturday. "
            "The winners meet the holders in the last eight.\n\n"
            '- Rovers boss Tom Ray: "Varna have done well but we should have the better '
            'players. We want to win."\n'
            '- Varna boss Ana Lind: "We have nothing to lose and we will enjoy the day."\n'
            "- Kick-off is at three o'clock.\n"
        ),
        "ferry.txt": (
            "Ferry fares frozen\n\n"
            '"Passengers have had a hard year," said Tom Ray, who also chairs the ferry board. '
            "The fares freeze will cost about 2m crowns.\n"
        ),
    }
    assistant = Assistant(
        write_articles(tmp_path / "corpus", articles), tmp_path / "index", embedder=embedder
    )
    answer = assistant.ask("What did Tom Ray say about Varna?")
    assert answer.quotes[0].source == "cup.txt" and answer.quotes[0].speaker == "Tom Ray"
    assert "Varna have done well" in answer.quotes[0].text
