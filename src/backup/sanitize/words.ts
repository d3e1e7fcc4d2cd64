/**
 * Words for the two-word names sanitize gives people, teams, projects and organizations
 * ("Brave Otter"), as Sentry does with the `petname` package: an adjective and an animal, each at
 * most as long as the original name. relo's own lists, lower case, 3 to 9 letters.
 */

export const ADJECTIVES: readonly string[] = words(`
  apt big coy dry fit fun hip hot icy new odd old raw red shy sly wee wry zen
  able airy avid bold busy calm cool cozy cute damp dear deft eager easy epic fair fast
  fine firm flat fond free glad gold good grey hale handy hardy huge idle just keen
  kind lazy lean live loud lush mild neat nice open pale pink plum posh pure rare real
  rich ripe rosy ruby safe sage snug soft sure tall tame tidy tiny true vast warm wary
  wide wild wise witty zany
  adept agile alert alive ample amber azure basic blond brave brief brisk broad calm
  candid chief civil clean clear close comic crisp curly dandy dizzy early equal exact
  fancy fiery first fluffy frank fresh funny giant gentle glossy grand great green happy
  hasty hazel heady hearty honest humble ideal inner jolly jumpy large level light
  lively loyal lucid lucky lunar magic major merry mighty misty modest nimble noble
  novel olive quick quiet rapid ready regal royal rugged rustic sandy sharp shiny silent
  simple smart smooth snowy solar solid sonic sound spicy steady stellar still stormy
  sturdy sunny super sweet swift tender tidal tough trusty upbeat urban valid vital vivid
  wavy whole witty young zesty
  amusing artful awesome balmy bouncy breezy bright capable careful certain
  charming cheerful classic clever correct crafty curious daring decent devoted direct
  dynamic elegant endless eternal exotic famous fearless festive fitting flowing
  fluent focused formal fragrant friendly gallant generous genuine gifted glowing
  gracious helpful heroic hopeful immense jovial joyful kindly lasting logical lovely
  loving magical mellow mindful musical natural neutral nearby optimal organic patient
  peaceful perfect pleasant polite popular precious premium prime proper proud radiant
  rational relaxed resolute robust secure serene skilled sincere sleek soothing sparkling
  special splendid stable striking sublime superb supreme tactful thankful thorough
  tranquil trusted unique upright useful valiant verdant welcome willing winning wondrous
`);

export const ANIMALS: readonly string[] = words(`
  ant ape asp bat bee cat cod cow doe dog eel elk emu ewe fox gnu hen jay koi owl pig
  ram rat yak
  bass bear bird boar buck bull calf carp clam colt crab crow dart deer dove duck fawn
  fish flea foal frog goat gull hare hawk ibis kite kiwi lamb lark lion loon lynx mink
  mole moth mule newt orca oryx puma quail seal shad slug swan tern toad tuna vole wasp
  wolf worm wren yeti zebu
  adder bison bream camel chick cobra coral crane dingo eagle egret finch gecko goose
  grouse heron horse hyena koala lemur llama macaw moose mouse otter panda perch pony
  prawn quail raven robin sheep shark skunk sloth snail snake squid stork swift tapir
  tiger trout viper whale zebra
  alpaca badger beagle beaver bobcat condor cougar coyote donkey falcon ferret gerbil
  gopher hornet iguana impala jackal jaguar kitten lizard magpie marten monkey ocelot
  osprey parrot pigeon plover poodle possum python rabbit salmon shrimp spider toucan
  turkey turtle walrus weasel wombat
  buffalo catfish chicken cheetah cricket dolphin gazelle giraffe gorilla hamster
  lobster manatee meerkat narwhal ostrich panther pelican penguin raccoon sardine
  seagull sparrow sturgeon termite tadpole warthog wildcat
  aardvark anteater antelope bluebird capybara flamingo hedgehog kangaroo mongoose
  mosquito pheasant platypus reindeer scorpion seahorse squirrel starling stingray
  wolverine
`);

function words(list: string): string[] {
  return [...new Set(list.split(/\s+/).filter(Boolean))];
}
