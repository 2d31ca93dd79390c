"""Short news paragraphs we wrote in languages the word lists of newssearch.analysis.langid
do not cover (and a few they do), for the language-detection tests and benchmark."""
from __future__ import annotations

SENTENCES = {
    "da": ["Regeringen har besluttet at hæve afgiften på benzin fra næste år, siger ministeren, og det vil ramme de fleste familier i landet.",
           "Havnearbejderne i Aarhus strejkede i tre dage, før fagforeningen og arbejdsgiverne blev enige om en ny overenskomst."],
    "no": ["Regjeringen har bestemt at avgiften på bensin skal økes fra neste år, sier statsministeren, og det vil ramme de fleste familier.",
           "Havnearbeiderne i Bergen streiket i tre dager før fagforeningen og arbeidsgiverne ble enige om en ny avtale."],
    "sv": ["Regeringen har beslutat att höja skatten på bensin från nästa år, säger ministern, och det kommer att drabba de flesta familjer.",
           "Hamnarbetarna i Göteborg strejkade i tre dagar innan facket och arbetsgivarna kom överens om ett nytt avtal."],
    "ro": ["Guvernul a decis să majoreze taxele pe carburanți de anul viitor, a declarat ministrul, iar măsura va afecta majoritatea familiilor.",
           "Docherii din portul Constanța au intrat în grevă timp de trei zile, până când sindicatul a ajuns la un acord cu patronatul."],
    "ca": ["El govern ha decidit apujar els impostos sobre el carburant a partir de l'any vinent, segons el ministre, i la mesura afectarà la majoria de famílies.",
           "Els estibadors del port de Barcelona han fet vaga durant tres dies fins que el sindicat i la patronal han arribat a un acord."],
    "cs": ["Vláda rozhodla, že od příštího roku zvýší daň z pohonných hmot, řekl ministr a dodal, že peníze půjdou na opravy silnic.",
           "Přístavní dělníci v Hamburku stávkovali tři dny, než se odbory a zaměstnavatelé dohodli na nové smlouvě."],
    "fi": ["Hallitus päätti nostaa polttoaineveroa ensi vuodesta alkaen, sanoi ministeri, ja rahat käytetään teiden korjaamiseen.",
           "Satamatyöntekijät lakkoilivat Helsingissä kolme päivää ennen kuin ammattiliitto ja työnantajat pääsivät sopimukseen."],
    "hu": ["A kormány úgy döntött, hogy jövőre emeli az üzemanyag adóját, mondta a miniszter, és a pénzt az utak javítására költik.",
           "A kikötői munkások három napig sztrájkoltak, mielőtt a szakszervezet és a munkaadók megállapodtak egy új szerződésről."],
    "vi": ["Chính phủ quyết định tăng thuế nhiên liệu từ năm tới, bộ trưởng cho biết, và tiền sẽ được dùng để sửa đường.",
           "Công nhân bến cảng đã đình công ba ngày trước khi công đoàn và chủ lao động đạt được thỏa thuận mới."],
    "pt": ["O governo decidiu aumentar o imposto sobre os combustíveis a partir do próximo ano, disse o ministro, e a medida vai afetar a maioria das famílias.",
           "Os estivadores do porto de Lisboa fizeram greve durante três dias até que o sindicato e os patrões chegaram a um acordo."],
    "es": ["El gobierno ha decidido subir el impuesto sobre los carburantes a partir del próximo año, según el ministro, y la medida afectará a la mayoría de las familias.",
           "Los estibadores del puerto de Valencia hicieron huelga durante tres días hasta que el sindicato y la patronal llegaron a un acuerdo."],
    "en": ["The government has decided to raise the fuel tax from next year, the minister said, and the measure will hit most families.",
           "Dock workers at the port went on strike for three days before the union and the employers reached a new agreement."],
    "de": ["Die Regierung hat beschlossen, die Steuer auf Kraftstoff ab dem nächsten Jahr zu erhöhen, sagte der Minister, und das trifft die meisten Familien.",
           "Die Hafenarbeiter in Hamburg streikten drei Tage lang, bevor sich die Gewerkschaft und die Arbeitgeber auf einen neuen Vertrag einigten."],
}
