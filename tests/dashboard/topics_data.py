"""A hand-labelled set of French residents' messages: 16 request groups (paraphrases, typos, copy-paste
campaigns) and 20 one-off messages, to measure how well the topic grouping recovers the groups."""

from __future__ import annotations

GROUPS: dict[str, list[str]] = {
    "piscine": [
        "Pourquoi la piscine municipale est fermée depuis lundi ?",
        "La piscine est encore fermée aujourd'hui ?? on avait prévu d'y aller avec les enfants",
        "piscine fermee depuis 1 semaine, c'est quand la réouverture ???",
        "Bonjour, savez-vous quand la piscine Jean Bouin va rouvrir ? Merci",
        "Encore la piscine fermée ce week-end, c'est la 3e fois ce mois-ci 😡",
        "Bjr la piscine est fermée pour travaux jusqu'à quand svp",
        "Réouverture de la piscine prévue quand ? Mes enfants ont leurs cours de natation",
        "C'est normal que la piscine soit fermée en plein mois de juillet ?",
    ],
    "poubelles": [
        "Les poubelles n'ont pas été ramassées rue Pasteur depuis mardi",
        "Toujours pas de collecte des poubelles dans notre rue, ça déborde et ça sent mauvais",
        "poubelles pas ramassees depuis 10 jours quartier des Tilleuls !!!",
        "Bonjour, la collecte des ordures ménagères n'est pas passée cette semaine avenue Foch",
        "Les bacs jaunes n'ont pas été vidés, la collecte du tri est oubliée ?",
        "Quand est-ce que les poubelles seront enfin ramassées ? Les rats adorent",
        "Ramassage des ordures oublié encore une fois rue des Lilas",
    ],
    "nid_de_poule": [
        "Énorme nid-de-poule rue Victor Hugo, j'ai crevé mon pneu",
        "Nid de poule devant le 12 rue Victor Hugo, quelqu'un va se blesser",
        "Quand allez-vous reboucher les nids de poule avenue de la Gare ?",
        "La chaussée est pleine de trous et de nids-de-poule boulevard Carnot, c'est dangereux à vélo",
        "nid de poule geant au carrefour, ma voiture est au garage",
        "Un trou énorme dans la route rue du Moulin, un vrai nid de poule, merci d'intervenir",
    ],
    "eclairage": [
        "Les lampadaires sont éteints rue des Écoles depuis 3 jours",
        "Plus d'éclairage public dans le quartier Saint-Jean, on ne voit rien le soir",
        "lampadaire en panne devant chez moi depuis une semaine",
        "L'éclairage de la rue Pasteur ne fonctionne plus, c'est pas rassurant la nuit",
        "Tous les lampadaires du parking de la gare sont éteints",
        "Panne d'éclairage public avenue Jean Jaurès, quelqu'un peut transmettre ?",
    ],
    "horaires_mairie": [
        "Quels sont les horaires d'ouverture de la mairie le samedi ?",
        "La mairie est ouverte le samedi matin ?",
        "Bonjour, à quelle heure ouvre la mairie demain ?",
        "horaires mairie pendant les vacances svp",
        "Est-ce que la mairie est ouverte entre midi et deux ?",
        "La mairie annexe a-t-elle les mêmes horaires d'ouverture que l'hôtel de ville ?",
    ],
    "papiers_identite": [
        "Comment prendre rendez-vous pour refaire ma carte d'identité ?",
        "Pas de rendez-vous disponible pour les passeports avant 3 mois, c'est normal ?",
        "Bonjour, délai pour un rdv carte d'identité en mairie ?",
        "Impossible de prendre rendez-vous en ligne pour un passeport, le site bug",
        "Je dois renouveler mon passeport en urgence, des créneaux de rendez-vous se libèrent ?",
        "rdv carte identite introuvable sur le site de la ville",
    ],
    "cantine": [
        "Comment inscrire mon fils à la cantine scolaire ?",
        "Inscription cantine pour la rentrée, c'est jusqu'à quand ?",
        "Le menu de la cantine de cette semaine est disponible où ?",
        "Bonjour, les tarifs de la cantine scolaire ont augmenté ?",
        "Ma fille est allergique, la cantine propose des repas adaptés ?",
        "inscription cantine impossible sur le portail famille",
    ],
    "stationnement": [
        "Pourquoi le stationnement est devenu payant place du Marché ?",
        "J'ai eu un PV alors que l'horodateur était en panne",
        "Plus aucune place de stationnement dans le centre-ville, c'est infernal",
        "Le parking de la mairie est-il gratuit le samedi ?",
        "Stationnement payant le dimanche maintenant ? Sérieusement ?",
        "Contester une amende de stationnement, comment faire ?",
    ],
    "marche_noel": [
        "Le marché de Noël commence quand cette année ?",
        "Quelles sont les dates du marché de Noël ?",
        "marché de noël ouvert le dimanche ?",
        "Bonjour, comment devenir exposant au marché de Noël ?",
        "Il y aura une patinoire au marché de Noël comme l'an dernier ?",
    ],
    "bruit": [
        "Bruit insupportable tous les soirs à cause du bar de la place",
        "Nuisances sonores rue Gambetta, musique jusqu'à 3h du matin",
        "Le bar fait du bruit toute la nuit, personne ne fait rien ?",
        "Tapage nocturne encore cette nuit près du bar, on ne dort plus",
        "Qui contacter pour des nuisances sonores le week-end ?",
    ],
    "crottes": [
        "Les crottes de chien partout sur les trottoirs, c'est dégoûtant",
        "Trottoirs couverts de déjections canines rue de la République",
        "Il faudrait plus de distributeurs de sacs pour les crottes de chien",
        "crottes de chien devant l'école encore ce matin",
        "Amendes pour les propriétaires qui ne ramassent pas les crottes de leur chien ?",
    ],
    "travaux": [
        "Les travaux de la rue Nationale vont durer encore combien de temps ?",
        "Route barrée pour travaux sans déviation indiquée, on tourne en rond",
        "Fin des travaux avenue de Verdun prévue quand ?",
        "Déviation mal indiquée à cause des travaux du pont",
        "Travaux bruyants dès 7h du matin, c'est autorisé ?",
    ],
    "inondation": [
        "Ma cave est inondée depuis l'orage, qui appeler ?",
        "Rue inondée après l'orage, les égouts débordent",
        "Inondation dans le quartier bas, la mairie peut envoyer des sacs de sable ?",
        "Suite aux inondations, comment déclarer l'état de catastrophe naturelle ?",
        "cave inondee encore, les pompiers sont débordés",
    ],
    "encombrants": [
        "Comment prendre rendez-vous pour le ramassage des encombrants ?",
        "Le ramassage des encombrants c'est quel jour dans mon quartier ?",
        "Des encombrants abandonnés sur le trottoir depuis 2 semaines rue Voltaire",
        "Collecte des encombrants : je peux déposer un frigo ?",
        "rdv encombrants pas dispo avant le mois prochain",
    ],
    "feu_artifice": [
        "Merci pour le magnifique feu d'artifice du 14 juillet !",
        "Bravo pour le feu d'artifice, superbe spectacle 👏",
        "Le feu d'artifice était génial cette année, merci à la ville",
        "Quel beau feu d'artifice hier soir, félicitations aux équipes",
        "Merci la mairie pour ce feu d'artifice, les enfants ont adoré",
    ],
    "bus": [
        "Le bus ligne 4 a encore 20 minutes de retard ce matin",
        "Ligne 4 supprimée sans prévenir, les enfants ont raté l'école",
        "Retards à répétition sur le bus 4, c'est inadmissible",
        "Le bus scolaire n'est pas passé ce matin à l'arrêt Mairie",
        "Horaires du bus ligne 4 modifiés ? Plus aucun bus à 7h30",
    ],
}

SINGLETONS: list[str] = [
    "Qui a gagné le concours de pétanque hier ?",
    "Je cherche un médecin généraliste qui accepte de nouveaux patients",
    "Joli reportage sur la ville dans le journal régional",
    "Un chat roux perdu près du stade, merci de partager",
    "La bibliothèque prête-t-elle des liseuses ?",
    "Belle initiative le jardin partagé derrière l'église",
    "Est-il possible de louer la salle des fêtes pour un mariage ?",
    "Les élections municipales auront lieu quand ?",
    "Je voudrais proposer une idée pour le budget participatif",
    "Vive le club de foot, champions départementaux !",
    "Le distributeur de billets du centre est hors service",
    "Une association cherche des bénévoles pour la banque alimentaire",
    "Le cimetière ferme à quelle heure en hiver ?",
    "Où déposer un dossier de permis de construire ?",
    "Une antenne 5G va être installée près de l'école ?",
    "Les arbres de l'avenue vont être coupés ?",
    "Quel est le numéro de la police municipale ?",
    "Concert gratuit au kiosque samedi, super ambiance",
    "Un frelon asiatique a fait son nid dans mon jardin",
    "La fibre arrive quand dans le quartier des Vignes ?",
]


def labelled() -> tuple[list[str], list[str]]:
    """(texts, labels): every singleton has its own label."""
    texts, labels = [], []
    for label, items in GROUPS.items():
        texts += items
        labels += [label] * len(items)
    for i, text in enumerate(SINGLETONS):
        texts.append(text)
        labels.append(f"single-{i}")
    return texts, labels
