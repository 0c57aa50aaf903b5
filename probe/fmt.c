/*
 * fmt.c - number to text exactly as Python 3's str()/repr() prints it.
 *
 * Doubles use Schubfach (R. Giulietti, "The Schubfach way to render doubles", 2020): one
 * 126-bit approximation of a power of ten turns v and the two ends of its rounding interval
 * into scaled integers, from which the shortest decimal that reads back as v (and, among
 * the shortest, the one closest to v; ties to even) is picked with a few comparisons. That
 * is the same digit string as David Gay's dtoa mode 0, which CPython's repr() uses, without
 * any bignum or retry path. Layout then follows CPython's format_float_short() for 'r'.
 *
 * Everything here is exact integer arithmetic; there is no slow fallback.
 */
#include "fmt.h"

#include <string.h>

#define MANT_BITS 52
#define EXP_MASK 0x7ff
#define EXP_BIAS 1075 /* v = c 2^(e - EXP_BIAS) for a normal double with biased exponent e */
#define Q_MIN (-1074) /* q of the subnormals (and of the smallest normals) */
#define C_MIN ((uint64_t)1 << MANT_BITS)
#define MASK63 (((uint64_t)1 << 63) - 1)

/*
 * "00" "01" ... "99": printing two digits per division halves the number of (multiply-shift)
 * divisions, which dominate the cost of turning an integer into text.
 */
static const char digits2[200] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/*
 * g_table[i] holds g = floor(10^e 2^-r) + 1 for e = i + G_E_MIN, where r is chosen so that
 * 2^125 <= g - 1 < 2^126; the pair is {g >> 63, g mod 2^63}. Overestimating 10^e by less
 * than 2^r is what the round-to-odd product below relies on. The range covers every
 * e = -k that the doubles need (k from floor(log10(2^-1074)) = -324 to
 * floor(log10(2^971)) = 292). Generated with exact rational arithmetic (Python Fraction).
 */
#define G_E_MIN (-292)
#define G_E_MAX 324
static const uint64_t g_table[G_E_MAX - G_E_MIN + 1][2] = {
    {0x7fbbd8fe5f5e6e27U, 0x497a3a2704eec3dfU}, /* 10^-292 */
    {0x4fd5679efb9b04d8U, 0x5dec645863153a6cU}, /* 10^-291 */
    {0x63cac186ba81c60eU, 0x75677d6e7bda8906U}, /* 10^-290 */
    {0x7cbd71e869223792U, 0x52c15cca1ad12b48U}, /* 10^-289 */
    {0x4df6673141b562bbU, 0x53b8d9fe50c2bb0dU}, /* 10^-288 */
    {0x617400fd9222bb6aU, 0x48a7107de4f369d0U}, /* 10^-287 */
    {0x79d1013cf6ab6a45U, 0x1ad0d49d5e304444U}, /* 10^-286 */
    {0x4c22a0c61a2b226bU, 0x20c284e25ade2aabU}, /* 10^-285 */
    {0x5f2b48f7a0b5eb06U, 0x08f3261af195b555U}, /* 10^-284 */
    {0x76f61b3588e365c7U, 0x4b2fefa1adfb22abU}, /* 10^-283 */
    {0x4a59d101758e1f9cU, 0x5efdf5c50cbcf5abU}, /* 10^-282 */
    {0x5cf04541d2f1a783U, 0x76bd73364fec3315U}, /* 10^-281 */
    {0x742c569247ae1164U, 0x746cd003e3e73fdbU}, /* 10^-280 */
    {0x489bb61b6ccccadfU, 0x08c402026e7087e9U}, /* 10^-279 */
    {0x5ac2a3a247fffd96U, 0x6af502830a0ca9e3U}, /* 10^-278 */
    {0x71734c8ad9fffcfcU, 0x45b24323cc8fd45cU}, /* 10^-277 */
    {0x46e80fd6c83ffe1dU, 0x6b8f69f65fd9e4b9U}, /* 10^-276 */
    {0x58a213cc7a4ffda5U, 0x26734473f7d05de8U}, /* 10^-275 */
    {0x6eca98bf98e3fd0eU, 0x50101590f5c47561U}, /* 10^-274 */
    {0x453e9f77bf8e7e29U, 0x120a0d7a999ac95dU}, /* 10^-273 */
    {0x568e4755af721db3U, 0x368c90d940017bb4U}, /* 10^-272 */
    {0x6c31d92b1b4ea520U, 0x242fb50f9001daa1U}, /* 10^-271 */
    {0x439f27baf1112734U, 0x169dd129ba0128a5U}, /* 10^-270 */
    {0x5486f1a9ad557101U, 0x1c454574288172ceU}, /* 10^-269 */
    {0x69a8ae1418aacd41U, 0x435696d132a1cf81U}, /* 10^-268 */
    {0x42096ccc8f6ac048U, 0x7a161e42bfa521b1U}, /* 10^-267 */
    {0x528bc7ffb345705bU, 0x189ba5d36f8e6a1dU}, /* 10^-266 */
    {0x672eb9ffa016cc71U, 0x7ec28f484b7204a4U}, /* 10^-265 */
    {0x407d343fc40e3fc7U, 0x1f39998d2f2742e7U}, /* 10^-264 */
    {0x509c814fb511cfb9U, 0x0707fff07af113a1U}, /* 10^-263 */
    {0x64c3a1a3a25643a7U, 0x28c9ffec99ad5889U}, /* 10^-262 */
    {0x7df48a0c8aebd491U, 0x12fc7fe7c018aeabU}, /* 10^-261 */
    {0x4eb8d647d6d364daU, 0x5bddcff0d80f6d2bU}, /* 10^-260 */
    {0x62670bd9cc883e11U, 0x32d543ed0e134875U}, /* 10^-259 */
    {0x7b00ced03faa4d95U, 0x5f8a94e851981a93U}, /* 10^-258 */
    {0x4ce0814227ca707dU, 0x4bb69d1132ff109cU}, /* 10^-257 */
    {0x6018a192b1bd0c9cU, 0x7ea444557fbed4c3U}, /* 10^-256 */
    {0x781ec9f75e2c4fc4U, 0x1e4d556adfae89f3U}, /* 10^-255 */
    {0x4b133e3a9adbb1daU, 0x52f05562cbcd1638U}, /* 10^-254 */
    {0x5dd80dc941929e51U, 0x27ac6abb7ec05bc6U}, /* 10^-253 */
    {0x754e113b91f745e5U, 0x5197856a5e7072b8U}, /* 10^-252 */
    {0x4950cac53b3a8bafU, 0x42feb3627b0647b3U}, /* 10^-251 */
    {0x5ba4fd768a092e9bU, 0x33be603b19c7d99fU}, /* 10^-250 */
    {0x728e3cd42c8b7a42U, 0x20adf849e039d007U}, /* 10^-249 */
    {0x4798e6049bd72c69U, 0x346cbb2e2c242205U}, /* 10^-248 */
    {0x597f1f85c2ccf783U, 0x6187e9f9b72d2a86U}, /* 10^-247 */
    {0x6fdee76733803564U, 0x59e9e47824f87527U}, /* 10^-246 */
    {0x45eb50a08030215eU, 0x78322ecb171b4939U}, /* 10^-245 */
    {0x576624c8a03c29b6U, 0x563eba7ddce21b87U}, /* 10^-244 */
    {0x6d3fadfac84b3424U, 0x2bce691d541aa268U}, /* 10^-243 */
    {0x4447ccbcbd2f0096U, 0x5b6101b25490a581U}, /* 10^-242 */
    {0x5559bfebec7ac0bcU, 0x3239421ee9b4cee1U}, /* 10^-241 */
    {0x6ab02fe6e79970ebU, 0x3ec792a6a422029aU}, /* 10^-240 */
    {0x42ae1df050bfe693U, 0x173cbba8269541a0U}, /* 10^-239 */
    {0x5359a56c64efe037U, 0x7d0bea92303a9208U}, /* 10^-238 */
    {0x68300ec77e2bd845U, 0x7c4ee536bc49368aU}, /* 10^-237 */
    {0x411e093caedb672bU, 0x5db14f4235adc217U}, /* 10^-236 */
    {0x51658b8bda9240f6U, 0x551da312c319329cU}, /* 10^-235 */
    {0x65beee6ed136d134U, 0x2a650bd773df7f43U}, /* 10^-234 */
    {0x7f2eaa0a85848581U, 0x34fe4ecd50d75f14U}, /* 10^-233 */
    {0x4f7d2a469372d370U, 0x711ef14052869b6cU}, /* 10^-232 */
    {0x635c74d8384f884dU, 0x0d66ad9067284247U}, /* 10^-231 */
    {0x7c33920e46636a60U, 0x30c058f480f252d9U}, /* 10^-230 */
    {0x4da03b48ebfe227cU, 0x1e783798d09773c8U}, /* 10^-229 */
    {0x61084a1b26fdab1bU, 0x2616457f04bd50baU}, /* 10^-228 */
    {0x794a5ca1f0bd15e2U, 0x0f9bd6dec5eca4e8U}, /* 10^-227 */
    {0x4bce79e536762dadU, 0x29c1664b3bb3e711U}, /* 10^-226 */
    {0x5ec2185e8413b918U, 0x5431bfde0aa0e0d5U}, /* 10^-225 */
    {0x76729e762518a75eU, 0x693e2fd58d49190bU}, /* 10^-224 */
    {0x4a07a309d72f689bU, 0x21c6dde5784dafa7U}, /* 10^-223 */
    {0x5c898bcc4cfb42c2U, 0x0a38955ed6611b90U}, /* 10^-222 */
    {0x73abeebf603a1372U, 0x4cc6bab68bf96274U}, /* 10^-221 */
    {0x484b75379c244c27U, 0x4ffc34b2177bdd89U}, /* 10^-220 */
    {0x5a5e5285832d5f31U, 0x43fb41de9d5ad4ebU}, /* 10^-219 */
    {0x70f5e726e3f8b6fdU, 0x74fa125644b18a26U}, /* 10^-218 */
    {0x4699b0784e7b725eU, 0x591c4b75eaeef658U}, /* 10^-217 */
    {0x58401c96621a4ef6U, 0x2f635e5365aab3edU}, /* 10^-216 */
    {0x6e5023bbfaa0e2b3U, 0x7b3c35e83f1560e9U}, /* 10^-215 */
    {0x44f216557ca48db0U, 0x3d05a1b1276d5c92U}, /* 10^-214 */
    {0x562e9beadbcdb11cU, 0x4c470a1d7148b3b6U}, /* 10^-213 */
    {0x6bba42e592c11d63U, 0x5f58cca4cd9ae0a3U}, /* 10^-212 */
    {0x435469cf7bb8b25eU, 0x2b977fe70080cc66U}, /* 10^-211 */
    {0x542984435aa6def5U, 0x767d5fe0c0a0ff80U}, /* 10^-210 */
    {0x6933e554315096b3U, 0x341cb7d8f0c93f5fU}, /* 10^-209 */
    {0x41c06f549ed25e30U, 0x1091f2e7967dc79cU}, /* 10^-208 */
    {0x52308b29c686f5bcU, 0x14b66fa17c1d3983U}, /* 10^-207 */
    {0x66bcadf43828b32bU, 0x19e40b89db2487e3U}, /* 10^-206 */
    {0x4035ecb8a3196ffbU, 0x002e873628f6d4eeU}, /* 10^-205 */
    {0x504367e6cbdfcbf9U, 0x603a2903b3348a2aU}, /* 10^-204 */
    {0x645441e07ed7bef8U, 0x1848b344a001acb4U}, /* 10^-203 */
    {0x7d6952589e8daeb6U, 0x1e5ae015c80217e1U}, /* 10^-202 */
    {0x4e61d37763188d31U, 0x72f8cc0d9d014eedU}, /* 10^-201 */
    {0x61fa48553bdeb07eU, 0x2fb6ff110441a2a8U}, /* 10^-200 */
    {0x7a78da6a8ad65c9dU, 0x7ba4bed545520b52U}, /* 10^-199 */
    {0x4c8b888296c5f9e2U, 0x5d46f7454b534713U}, /* 10^-198 */
    {0x5fae6aa33c77785bU, 0x3498b5169e2818d8U}, /* 10^-197 */
    {0x779a054c0b955672U, 0x21bee25c45b21f0eU}, /* 10^-196 */
    {0x4ac0434f873d5607U, 0x35174d79ab8f5369U}, /* 10^-195 */
    {0x5d705423690cab89U, 0x225d20d816732843U}, /* 10^-194 */
    {0x74cc692c434fd66bU, 0x4af4690e1c0ff253U}, /* 10^-193 */
    {0x48ffc1bbaa11e603U, 0x1ed8c1a8d189f774U}, /* 10^-192 */
    {0x5b3fb22a94965f84U, 0x068ef21305ec7551U}, /* 10^-191 */
    {0x720f9eb539bbf765U, 0x0832ae97c76792a5U}, /* 10^-190 */
    {0x4749c33144157a9fU, 0x151fad1edca0bba8U}, /* 10^-189 */
    {0x591c33fd951ad946U, 0x7a67986693c8ea91U}, /* 10^-188 */
    {0x6f6340fcfa618f98U, 0x59017e8038bb2536U}, /* 10^-187 */
    {0x459e089e1c7cf9bfU, 0x37a0ef102374f742U}, /* 10^-186 */
    {0x57058ac5a39c382fU, 0x25892ad42c523512U}, /* 10^-185 */
    {0x6cc6ed770c83463bU, 0x0eeb75893766c256U}, /* 10^-184 */
    {0x43fc546a67d20be4U, 0x79532975c2a03976U}, /* 10^-183 */
    {0x54fb698501c68edeU, 0x17a7f3d3334847d4U}, /* 10^-182 */
    {0x6a3a43e642383295U, 0x5d91f0c8001a59c8U}, /* 10^-181 */
    {0x42646a6fe9631f9dU, 0x4a7b367d0010781dU}, /* 10^-180 */
    {0x52fd850be3bbe784U, 0x7d1a041c40149625U}, /* 10^-179 */
    {0x67bce64edcaae166U, 0x1c6085235019bbaeU}, /* 10^-178 */
    {0x40d60ff149eaccdfU, 0x71bc53361210154dU}, /* 10^-177 */
    {0x510b93ed9c658017U, 0x6e2b680396941aa0U}, /* 10^-176 */
    {0x654e78e9037ee01dU, 0x69b642047c392148U}, /* 10^-175 */
    {0x7ea21723445e9825U, 0x2423d2859b476999U}, /* 10^-174 */
    {0x4f254e760abb1f17U, 0x26966393810ca200U}, /* 10^-173 */
    {0x62eea2138d69e6ddU, 0x103bfc78614fca80U}, /* 10^-172 */
    {0x7baa4a9870c46094U, 0x344afb9679a3bd20U}, /* 10^-171 */
    {0x4d4a6e9f467abc5cU, 0x60aedd3e0c065634U}, /* 10^-170 */
    {0x609d0a4718196b73U, 0x78da948d8f07ebc1U}, /* 10^-169 */
    {0x78c44cd8de1fc650U, 0x771139b0f2c9e6b1U}, /* 10^-168 */
    {0x4b7ab0078ad3dbf2U, 0x4a6ac40e97be302fU}, /* 10^-167 */
    {0x5e595c096d88d2efU, 0x1d0575123dadbc3aU}, /* 10^-166 */
    {0x75efb30bc8eb07abU, 0x0446d256cd192b49U}, /* 10^-165 */
    {0x49b5cfe75d92e4caU, 0x72ac4376402fbb0eU}, /* 10^-164 */
    {0x5c2343e134f79dfdU, 0x4f575453d03ba9d1U}, /* 10^-163 */
    {0x732c14d98235857dU, 0x032d2968c44a9445U}, /* 10^-162 */
    {0x47fb8d07f161736eU, 0x11fc39e17aae9cabU}, /* 10^-161 */
    {0x59fa7049edb9d049U, 0x567b4859d95a43d6U}, /* 10^-160 */
    {0x70790c5c6928445cU, 0x0c1a1a704fb0d4ccU}, /* 10^-159 */
    {0x464ba7b9c1b92ab9U, 0x4790508631ce84ffU}, /* 10^-158 */
    {0x57de91a832277567U, 0x797464a7be42263fU}, /* 10^-157 */
    {0x6dd636123eb152c1U, 0x77d17dd1add2afcfU}, /* 10^-156 */
    {0x44a5e1cb672ed3b9U, 0x1ae2eea30ca3ade1U}, /* 10^-155 */
    {0x55cf5a3e40fa88a7U, 0x419baa4bcfcc995aU}, /* 10^-154 */
    {0x6b4330cdd1392ad1U, 0x320294dec3bfbfb0U}, /* 10^-153 */
    {0x4309fe80a2c3bac2U, 0x6f419d0b3a57d7ceU}, /* 10^-152 */
    {0x53cc7e20cb74a973U, 0x4b12044e08edcdc2U}, /* 10^-151 */
    {0x68bf9da8fe51d3d0U, 0x3dd685618b294132U}, /* 10^-150 */
    {0x4177c2899ef32462U, 0x26a6135cf6f9c8bfU}, /* 10^-149 */
    {0x51d5b32c06afed7aU, 0x704f983434b83aefU}, /* 10^-148 */
    {0x664b1ff7085be8d9U, 0x4c637e4141e649abU}, /* 10^-147 */
    {0x7fdde7f4ca72e30fU, 0x7f7c5dd1925fdc15U}, /* 10^-146 */
    {0x4feab0f8fe87cde9U, 0x7fadbaa2fb7be98dU}, /* 10^-145 */
    {0x63e55d373e29c164U, 0x3f99294bba5ae3f1U}, /* 10^-144 */
    {0x7cdeb4850db431bdU, 0x4f7f739ea8f19cedU}, /* 10^-143 */
    {0x4e0b30d328909f16U, 0x41afa84329970214U}, /* 10^-142 */
    {0x618dfd07f2b4c6dcU, 0x121b9253f3fcc299U}, /* 10^-141 */
    {0x79f17c49ef61f893U, 0x16a276e8f0fbf33fU}, /* 10^-140 */
    {0x4c36edae359d3b5bU, 0x7e258a51969d7808U}, /* 10^-139 */
    {0x5f44a919c3048a32U, 0x7daeece5fc44d609U}, /* 10^-138 */
    {0x7715d36033c5acbfU, 0x5d1aa81f7b560b8cU}, /* 10^-137 */
    {0x4a6da41c205b8bf7U, 0x6a30a913ad15c738U}, /* 10^-136 */
    {0x5d090d2328726ef5U, 0x64bcd358985b3905U}, /* 10^-135 */
    {0x744b506bf28f0ab3U, 0x1dec082ebe720746U}, /* 10^-134 */
    {0x48af1243779966b0U, 0x02b3851d3707448cU}, /* 10^-133 */
    {0x5adad6d4557fc05cU, 0x0360666484c915afU}, /* 10^-132 */
    {0x71918c896adfb073U, 0x04387ffda5fb5b1bU}, /* 10^-131 */
    {0x46faf7d5e2cbce47U, 0x72a34ffe87bd18f1U}, /* 10^-130 */
    {0x58b9b5cb5b7ec1d9U, 0x6f4c23fe29ac5f2dU}, /* 10^-129 */
    {0x6ee8233e325e7250U, 0x2b1f2cfdb41776f8U}, /* 10^-128 */
    {0x45511606df7b0772U, 0x1af37c1e908eaa5bU}, /* 10^-127 */
    {0x56a55b889759c94eU, 0x61b05b2634b254f2U}, /* 10^-126 */
    {0x6c4eb26abd303ba2U, 0x3a1c71efc1deea2eU}, /* 10^-125 */
    {0x43b12f82b63e2545U, 0x4451c735d92b525dU}, /* 10^-124 */
    {0x549d7b6363cdae96U, 0x756639034f7626f4U}, /* 10^-123 */
    {0x69c4da3c3cc11a3cU, 0x52bfc7442353b0b1U}, /* 10^-122 */
    {0x421b0865a5f8b065U, 0x73b7dc8a96144e6fU}, /* 10^-121 */
    {0x52a1ca7f0f76dc7fU, 0x30a5d3ad3b99620bU}, /* 10^-120 */
    {0x674a3d1ed354939fU, 0x1ccf48988a7fba8dU}, /* 10^-119 */
    {0x408e66334414dc43U, 0x42018d5f568fd498U}, /* 10^-118 */
    {0x50b1ffc0151a1354U, 0x3281f0b72c33c9beU}, /* 10^-117 */
    {0x64de7fb01a609829U, 0x3f226ce4f740bc2eU}, /* 10^-116 */
    {0x7e161f9c20f8be33U, 0x6eeb081e3510eb39U}, /* 10^-115 */
    {0x4ecdd3c1949b76e0U, 0x3552e512e12a9304U}, /* 10^-114 */
    {0x628148b1f9c25498U, 0x42a79e57997537c5U}, /* 10^-113 */
    {0x7b219ade7832e9beU, 0x535185ed7fd285b6U}, /* 10^-112 */
    {0x4cf500cb0b1fd217U, 0x1412f3b46fe39392U}, /* 10^-111 */
    {0x603240fdcde7c69cU, 0x7917b0a18bdc7876U}, /* 10^-110 */
    {0x783ed13d4161b844U, 0x175d9cc9eed39694U}, /* 10^-109 */
    {0x4b2742c648dd132aU, 0x4e9a81fe35443e1cU}, /* 10^-108 */
    {0x5df11377db1457f5U, 0x2241227dc2954da3U}, /* 10^-107 */
    {0x756d5855d1d96df2U, 0x4ad16b1d333aa10cU}, /* 10^-106 */
    {0x49645735a327e4b7U, 0x4ec2e2f24004a4a8U}, /* 10^-105 */
    {0x5bbd6d030bf1dde5U, 0x42739baed005cdd2U}, /* 10^-104 */
    {0x72acc843ceee555eU, 0x7310829a84074146U}, /* 10^-103 */
    {0x47abfd2a6154f55bU, 0x27ea51a0928488ccU}, /* 10^-102 */
    {0x5996fc74f9aa32b2U, 0x11e4e608b725aaffU}, /* 10^-101 */
    {0x6ffcbb923814bf5eU, 0x565e1f8ae4ef15beU}, /* 10^-100 */
    {0x45fdf53b630cf79bU, 0x15fad3b6cf156d97U}, /* 10^-99 */
    {0x577d728a3bd03581U, 0x7b7988a482dac8fdU}, /* 10^-98 */
    {0x6d5ccf2ccac442e2U, 0x3a57eacda3917b3cU}, /* 10^-97 */
    {0x445a017bfebaa9cdU, 0x4476f2c0863aed06U}, /* 10^-96 */
    {0x557081dafe695440U, 0x7594af70a7c9a847U}, /* 10^-95 */
    {0x6acca251be03a951U, 0x12f9db4cd1bc1258U}, /* 10^-94 */
    {0x42bfe57316c249d2U, 0x5bdc291003158b77U}, /* 10^-93 */
    {0x536fdecfdc72dc47U, 0x32d3335403daee55U}, /* 10^-92 */
    {0x684bd683d38f9359U, 0x1f88002904d1a9eaU}, /* 10^-91 */
    {0x412f66126439bc17U, 0x63b50019a3030a33U}, /* 10^-90 */
    {0x517b3f96fd482b1dU, 0x5ca240200bc3ccbfU}, /* 10^-89 */
    {0x65da0f7cbc9a35e5U, 0x13cad0280eb4bfefU}, /* 10^-88 */
    {0x7f50935bebc0c35eU, 0x38bd84321261efebU}, /* 10^-87 */
    {0x4f925c1973587a1bU, 0x0376729f4b7d35f3U}, /* 10^-86 */
    {0x6376f31fd02e98a1U, 0x64540f471e5c836fU}, /* 10^-85 */
    {0x7c54afe7c43a3ecaU, 0x1d691318e5f3a44bU}, /* 10^-84 */
    {0x4db4edf0daa4673eU, 0x3261abef8fb846afU}, /* 10^-83 */
    {0x6122296d114d810dU, 0x7efa16eb73a6585bU}, /* 10^-82 */
    {0x796ab3c855a0e151U, 0x3eb89ca6508fee71U}, /* 10^-81 */
    {0x4be2b05d35848cd2U, 0x773361e7f259f507U}, /* 10^-80 */
    {0x5edb5c7482e5b007U, 0x55003a61eef07249U}, /* 10^-79 */
    {0x76923391a39f1c09U, 0x4a4048fa6aac8edbU}, /* 10^-78 */
    {0x4a1b603b06437185U, 0x7e682d9c82abd949U}, /* 10^-77 */
    {0x5ca23849c7d44de7U, 0x3e023903a356cf9bU}, /* 10^-76 */
    {0x73cac65c39c96161U, 0x2d82c7448c2c8382U}, /* 10^-75 */
    {0x485ebbf9a41ddcdcU, 0x6c71bc8ad79bd231U}, /* 10^-74 */
    {0x5a766af80d255414U, 0x078e2bad8d82c6bdU}, /* 10^-73 */
    {0x711405b6106ea919U, 0x0971b698f0e3786dU}, /* 10^-72 */
    {0x46ac8391ca4529afU, 0x55e7121f968e2b44U}, /* 10^-71 */
    {0x5857a4763cd6741bU, 0x4b60d6a77c31b615U}, /* 10^-70 */
    {0x6e6d8d93cc0c1122U, 0x3e390c515b3e239aU}, /* 10^-69 */
    {0x4504787c5f878ab5U, 0x46e3a7b2d906d640U}, /* 10^-68 */
    {0x5645969b77696d62U, 0x789c919f8f488bd0U}, /* 10^-67 */
    {0x6bd6fc425543c8bbU, 0x56c3b607731aaec4U}, /* 10^-66 */
    {0x43665da9754a5d75U, 0x263a51c4a7f0ad3bU}, /* 10^-65 */
    {0x543ff513d29cf4d2U, 0x4fc8e635d1ecd88aU}, /* 10^-64 */
    {0x694ff258c7443207U, 0x23bb1fc346680eacU}, /* 10^-63 */
    {0x41d1f7777c8a9f44U, 0x4654f3da0c01092cU}, /* 10^-62 */
    {0x524675555bad4715U, 0x57ea30d08f014b76U}, /* 10^-61 */
    {0x66d812aab29898dbU, 0x0de4bd04b2c19e54U}, /* 10^-60 */
    {0x40470baaaf9f5f88U, 0x78aef622efb902f5U}, /* 10^-59 */
    {0x5058ce955b87376bU, 0x16dab3ababa743b2U}, /* 10^-58 */
    {0x646f023ab2690545U, 0x7c9160969691149eU}, /* 10^-57 */
    {0x7d8ac2c95f034697U, 0x3bb5b8bc3c3559c5U}, /* 10^-56 */
    {0x4e76b9bddb620c1eU, 0x55519375a5a1581bU}, /* 10^-55 */
    {0x6214682d523a8f26U, 0x2aa5f8530f09ae22U}, /* 10^-54 */
    {0x7a998238a6c932efU, 0x754f7667d2cc19abU}, /* 10^-53 */
    {0x4c9ff163683dbfd5U, 0x7951aa00e3bf900bU}, /* 10^-52 */
    {0x5fc7edbc424d2fcbU, 0x37a614811caf740dU}, /* 10^-51 */
    {0x77b9e92b52e07bbeU, 0x258f99a163db5111U}, /* 10^-50 */
    {0x4ad431bb13cc4d56U, 0x7779c004de6912abU}, /* 10^-49 */
    {0x5d893e29d8bf60acU, 0x5558300616035755U}, /* 10^-48 */
    {0x74eb8db44eef38d7U, 0x6aae3c079b842d2aU}, /* 10^-47 */
    {0x49133890b1558386U, 0x72ace584c1329c3bU}, /* 10^-46 */
    {0x5b5806b4ddaae468U, 0x4f581ee5f17f4349U}, /* 10^-45 */
    {0x722e086215159d82U, 0x632e269f6ddf141bU}, /* 10^-44 */
    {0x475cc53d4d2d8271U, 0x5dfcd823a4ab6c91U}, /* 10^-43 */
    {0x5933f68ca078e30eU, 0x157c0e2c8dd647b5U}, /* 10^-42 */
    {0x6f80f42fc8971bd1U, 0x5adb11b7b14bd9a3U}, /* 10^-41 */
    {0x45b0989ddd5e7163U, 0x08c8eb12cecf6806U}, /* 10^-40 */
    {0x571cbec554b60dbbU, 0x6afb25d782834207U}, /* 10^-39 */
    {0x6ce3ee76a9e3912aU, 0x65b9ef4d63241289U}, /* 10^-38 */
    {0x440e750a2a2e3abaU, 0x5f9435905df68b96U}, /* 10^-37 */
    {0x5512124cb4b9c969U, 0x377942f475742e7bU}, /* 10^-36 */
    {0x6a5696dfe1e83bc3U, 0x655793b192d13a1aU}, /* 10^-35 */
    {0x42761e4bed31255aU, 0x2f56bc4efbc2c450U}, /* 10^-34 */
    {0x5313a5dee87d6eb0U, 0x7b2c6b62bab37564U}, /* 10^-33 */
    {0x67d88f56a29cca5dU, 0x19f7863b696052bdU}, /* 10^-32 */
    {0x40e7599625a1fe7aU, 0x203ab3e521dc33b6U}, /* 10^-31 */
    {0x51212ffbaf0a7e18U, 0x684960de6a5340a4U}, /* 10^-30 */
    {0x65697bfa9acd1d9fU, 0x025bb91604e810cdU}, /* 10^-29 */
    {0x7ec3daf941806506U, 0x62f2a75b86221500U}, /* 10^-28 */
    {0x4f3a68dbc8f03f24U, 0x1dd7a89933d54d20U}, /* 10^-27 */
    {0x63090312bb2c4eedU, 0x254d92bf80caa068U}, /* 10^-26 */
    {0x7bcb43d769f762a8U, 0x4ea0f76f60fd4882U}, /* 10^-25 */
    {0x4d5f0a66a23a9da9U, 0x31249aa59c9e4d51U}, /* 10^-24 */
    {0x60b6cd004ac94513U, 0x5d6dc14f03c5e0a5U}, /* 10^-23 */
    {0x78e480405d7b9658U, 0x54c931a2c4b758cfU}, /* 10^-22 */
    {0x4b8ed0283a6d3df7U, 0x34fdbf05baf29781U}, /* 10^-21 */
    {0x5e72843249088d75U, 0x223d2ec729af3d62U}, /* 10^-20 */
    {0x760f253edb4ab0d2U, 0x4acc7a78f41b0cbaU}, /* 10^-19 */
    {0x49c97747490eae83U, 0x4ebfcc8b9890e7f4U}, /* 10^-18 */
    {0x5c3bd5191b525a24U, 0x426fbfae7eb521f1U}, /* 10^-17 */
    {0x734aca5f6226f0adU, 0x530baf9a1e626a6dU}, /* 10^-16 */
    {0x480ebe7b9d58566cU, 0x43e74dc052fd8285U}, /* 10^-15 */
    {0x5a126e1a84ae6c07U, 0x54e1213067bce326U}, /* 10^-14 */
    {0x709709a125da0709U, 0x4a19697c81ac1befU}, /* 10^-13 */
    {0x465e6604b7a84465U, 0x7e4fe1edd10b9175U}, /* 10^-12 */
    {0x57f5ff85e592557fU, 0x3de3da69454e75d3U}, /* 10^-11 */
    {0x6df37f675ef6eadfU, 0x2d5cd10396a21347U}, /* 10^-10 */
    {0x44b82fa09b5a52cbU, 0x4c5a02a23e254c0dU}, /* 10^-9 */
    {0x55e63b88c230e77eU, 0x3f70834acdae9f10U}, /* 10^-8 */
    {0x6b5fca6af2bd215eU, 0x0f4ca41d811a46d4U}, /* 10^-7 */
    {0x431bde82d7b634daU, 0x698fe69270b06c44U}, /* 10^-6 */
    {0x53e2d6238da3c211U, 0x43f3e0370cdc8755U}, /* 10^-5 */
    {0x68db8bac710cb295U, 0x74f0d844d013a92bU}, /* 10^-4 */
    {0x4189374bc6a7ef9dU, 0x5916872b020c49bbU}, /* 10^-3 */
    {0x51eb851eb851eb85U, 0x0f5c28f5c28f5c29U}, /* 10^-2 */
    {0x6666666666666666U, 0x3333333333333334U}, /* 10^-1 */
    {0x4000000000000000U, 0x0000000000000001U}, /* 10^0 */
    {0x5000000000000000U, 0x0000000000000001U}, /* 10^1 */
    {0x6400000000000000U, 0x0000000000000001U}, /* 10^2 */
    {0x7d00000000000000U, 0x0000000000000001U}, /* 10^3 */
    {0x4e20000000000000U, 0x0000000000000001U}, /* 10^4 */
    {0x61a8000000000000U, 0x0000000000000001U}, /* 10^5 */
    {0x7a12000000000000U, 0x0000000000000001U}, /* 10^6 */
    {0x4c4b400000000000U, 0x0000000000000001U}, /* 10^7 */
    {0x5f5e100000000000U, 0x0000000000000001U}, /* 10^8 */
    {0x7735940000000000U, 0x0000000000000001U}, /* 10^9 */
    {0x4a817c8000000000U, 0x0000000000000001U}, /* 10^10 */
    {0x5d21dba000000000U, 0x0000000000000001U}, /* 10^11 */
    {0x746a528800000000U, 0x0000000000000001U}, /* 10^12 */
    {0x48c2739500000000U, 0x0000000000000001U}, /* 10^13 */
    {0x5af3107a40000000U, 0x0000000000000001U}, /* 10^14 */
    {0x71afd498d0000000U, 0x0000000000000001U}, /* 10^15 */
    {0x470de4df82000000U, 0x0000000000000001U}, /* 10^16 */
    {0x58d15e1762800000U, 0x0000000000000001U}, /* 10^17 */
    {0x6f05b59d3b200000U, 0x0000000000000001U}, /* 10^18 */
    {0x4563918244f40000U, 0x0000000000000001U}, /* 10^19 */
    {0x56bc75e2d6310000U, 0x0000000000000001U}, /* 10^20 */
    {0x6c6b935b8bbd4000U, 0x0000000000000001U}, /* 10^21 */
    {0x43c33c1937564800U, 0x0000000000000001U}, /* 10^22 */
    {0x54b40b1f852bda00U, 0x0000000000000001U}, /* 10^23 */
    {0x69e10de76676d080U, 0x0000000000000001U}, /* 10^24 */
    {0x422ca8b0a00a4250U, 0x0000000000000001U}, /* 10^25 */
    {0x52b7d2dcc80cd2e4U, 0x0000000000000001U}, /* 10^26 */
    {0x6765c793fa10079dU, 0x0000000000000001U}, /* 10^27 */
    {0x409f9cbc7c4a04c2U, 0x1000000000000001U}, /* 10^28 */
    {0x50c783eb9b5c85f2U, 0x5400000000000001U}, /* 10^29 */
    {0x64f964e68233a76fU, 0x2900000000000001U}, /* 10^30 */
    {0x7e37be2022c0914bU, 0x1340000000000001U}, /* 10^31 */
    {0x4ee2d6d415b85aceU, 0x7c08000000000001U}, /* 10^32 */
    {0x629b8c891b267182U, 0x5b0a000000000001U}, /* 10^33 */
    {0x7b426fab61f00de3U, 0x31cc800000000001U}, /* 10^34 */
    {0x4d0985cb1d3608aeU, 0x0f1fd00000000001U}, /* 10^35 */
    {0x604be73de4838ad9U, 0x52e7c40000000001U}, /* 10^36 */
    {0x785ee10d5da46d90U, 0x07a1b50000000001U}, /* 10^37 */
    {0x4b3b4ca85a86c47aU, 0x04c5112000000001U}, /* 10^38 */
    {0x5e0a1fd271287598U, 0x45f6556800000001U}, /* 10^39 */
    {0x758ca7c70d7292feU, 0x5773eac200000001U}, /* 10^40 */
    {0x4977e8dc68679bdfU, 0x16a872b940000001U}, /* 10^41 */
    {0x5bd5e313828182d6U, 0x7c528f6790000001U}, /* 10^42 */
    {0x72cb5bd86321e38cU, 0x5b67334174000001U}, /* 10^43 */
    {0x47bf19673df52e37U, 0x79208008e8800001U}, /* 10^44 */
    {0x59aedfc10d7279c5U, 0x7768a00b22a00001U}, /* 10^45 */
    {0x701a97b150cf1837U, 0x3542c80deb480001U}, /* 10^46 */
    {0x46109eced2816f22U, 0x5149bd08b30d0001U}, /* 10^47 */
    {0x5794c6828721caebU, 0x259c2c4adfd04001U}, /* 10^48 */
    {0x6d79f82328ea3da6U, 0x0f03375d97c45001U}, /* 10^49 */
    {0x446c3b15f9926687U, 0x6962029a7edab201U}, /* 10^50 */
    {0x558749db77f70029U, 0x63ba83411e915e81U}, /* 10^51 */
    {0x6ae91c5255f4c034U, 0x1ca924116635b621U}, /* 10^52 */
    {0x42d1b1b375b8f820U, 0x51e9b68adfe191d5U}, /* 10^53 */
    {0x53861e2053273628U, 0x6664242d97d9f64aU}, /* 10^54 */
    {0x6867a5a867f103b2U, 0x7ffd2d38fdd073dcU}, /* 10^55 */
    {0x4140c78940f6a24fU, 0x6ffe3c439ea2486aU}, /* 10^56 */
    {0x5190f96b91344ae3U, 0x6bfdcb54864ada84U}, /* 10^57 */
    {0x65f537c675815d9cU, 0x66fd3e29a7dd9125U}, /* 10^58 */
    {0x7f7285b812e1b504U, 0x00bc8db411d4f56eU}, /* 10^59 */
    {0x4fa793930bcd1122U, 0x4075d8908b251965U}, /* 10^60 */
    {0x63917877cec0556bU, 0x10934eb4adee5fbeU}, /* 10^61 */
    {0x7c75d695c2706ac5U, 0x74b82261d969f7adU}, /* 10^62 */
    {0x4dc9a61d998642bbU, 0x58f3157d27e23accU}, /* 10^63 */
    {0x613c0fa4ffe7d36aU, 0x4f2fdadc71dac97fU}, /* 10^64 */
    {0x798b138e3fe1c845U, 0x22fbd1938e517bdfU}, /* 10^65 */
    {0x4bf6ec38e7ed1d2bU, 0x25dd62fc38f2ed6cU}, /* 10^66 */
    {0x5ef4a74721e86476U, 0x0f54bbbb472fa8c6U}, /* 10^67 */
    {0x76b1d118ea627d93U, 0x5329eaaa18fb92f8U}, /* 10^68 */
    {0x4a2f22af927d8e7cU, 0x23fa32aa4f9d3bdbU}, /* 10^69 */
    {0x5cbaeb5b771cf21bU, 0x2cf8bf54e3848ad2U}, /* 10^70 */
    {0x73e9a63254e42ea2U, 0x1836ef2a1c65ad86U}, /* 10^71 */
    {0x487207df750e9d25U, 0x2f22557a51bf8c74U}, /* 10^72 */
    {0x5a8e89d75252446eU, 0x5aeaead8e62f6f91U}, /* 10^73 */
    {0x71322c4d26e6d58aU, 0x31a5a58f1fbb4b75U}, /* 10^74 */
    {0x46bf5bb038504576U, 0x3f07877973d50f29U}, /* 10^75 */
    {0x586f329c466456d4U, 0x0ec96957d0ca52f3U}, /* 10^76 */
    {0x6e8aff4357fd6c89U, 0x127bc3adc4fce7b0U}, /* 10^77 */
    {0x4516df8a16fe63d5U, 0x5b8d5a4c9b1e10ceU}, /* 10^78 */
    {0x565c976c9cbdfccbU, 0x1270b0dfc1e59502U}, /* 10^79 */
    {0x6bf3bd47c3ed7bfdU, 0x770cdd17b25efa42U}, /* 10^80 */
    {0x4378564cda746d7eU, 0x5a680a2ecf7b5c69U}, /* 10^81 */
    {0x54566be0111188deU, 0x31020cba835a3384U}, /* 10^82 */
    {0x696c06d81555eb15U, 0x7d428fe92430c065U}, /* 10^83 */
    {0x41e384470d55b2edU, 0x5e4999f1b69e783fU}, /* 10^84 */
    {0x525c6558d0ab1fa9U, 0x15dc006e2446164fU}, /* 10^85 */
    {0x66f37eaf04d5e793U, 0x3b530089ad579be2U}, /* 10^86 */
    {0x40582f2d6305b0bcU, 0x1513e0560c56c16eU}, /* 10^87 */
    {0x506e3af8bbc71cebU, 0x1a58d86b8f6c71c9U}, /* 10^88 */
    {0x6489c9b6eab8e426U, 0x00ef0e8673478e3bU}, /* 10^89 */
    {0x7dac3c24a5671d2fU, 0x412ad228101971c9U}, /* 10^90 */
    {0x4e8ba596e760723dU, 0x58bac3590a0fe71eU}, /* 10^91 */
    {0x622e8efca1388ecdU, 0x0ee9742f4c93e0e6U}, /* 10^92 */
    {0x7aba32bbc986b280U, 0x32a3d13b1fb8d91fU}, /* 10^93 */
    {0x4cb45fb55df42f90U, 0x1fa662c4f3d387b3U}, /* 10^94 */
    {0x5fe177a2b5713b74U, 0x278ffb7630c869a0U}, /* 10^95 */
    {0x77d9d58b62cd8a51U, 0x3173fa53bcfa8408U}, /* 10^96 */
    {0x4ae825771dc07672U, 0x6ee87c74561c9285U}, /* 10^97 */
    {0x5da22ed4e530940fU, 0x4aa29b916ba3b726U}, /* 10^98 */
    {0x750aba8a1e7cb913U, 0x3d4b4275c68ca4f0U}, /* 10^99 */
    {0x4926b496530df3acU, 0x164f09899c17e716U}, /* 10^100 */
    {0x5b7061bbe7d17097U, 0x1be2cbec031de0dcU}, /* 10^101 */
    {0x724c7a2ae1c5ccbdU, 0x02db7ee703e55912U}, /* 10^102 */
    {0x476fcc5acd1b9ff6U, 0x11c92f50626f57acU}, /* 10^103 */
    {0x594bbf71806287f3U, 0x563b7b247b0b2d96U}, /* 10^104 */
    {0x6f9eaf4de07b29f0U, 0x4bca59ed99cdf8fcU}, /* 10^105 */
    {0x45c32d90ac4cfa36U, 0x2f5e78348020bb9eU}, /* 10^106 */
    {0x5733f8f4d76038c3U, 0x7b361641a028ea85U}, /* 10^107 */
    {0x6d00f7320d3846f4U, 0x7a039bd208332526U}, /* 10^108 */
    {0x44209a7f48432c59U, 0x0c424163451ff738U}, /* 10^109 */
    {0x5528c11f1a53f76fU, 0x2f52d1bc1667f506U}, /* 10^110 */
    {0x6a72f166e0e8f54bU, 0x1b27862b1c01f247U}, /* 10^111 */
    {0x4287d6e04c91994fU, 0x00f8b3daf181376dU}, /* 10^112 */
    {0x5329cc985fb5ffa2U, 0x6136e0d1ade18548U}, /* 10^113 */
    {0x67f43fbe77a37f8bU, 0x398499061959e699U}, /* 10^114 */
    {0x40f8a7d70ac62fb7U, 0x13f2dfa3cfd83020U}, /* 10^115 */
    {0x5136d1cccd77bba4U, 0x78ef978cc3ce3c28U}, /* 10^116 */
    {0x6584864000d5aa8eU, 0x172b7d6ff4c1cb32U}, /* 10^117 */
    {0x7ee5a7d0010b1531U, 0x5cf65ccbf1f23dfeU}, /* 10^118 */
    {0x4f4f88e200a6ed3fU, 0x0a19f9ff773766bfU}, /* 10^119 */
    {0x63236b1a80d0a88eU, 0x6ca0787f5505406fU}, /* 10^120 */
    {0x7bec45e12104d2b2U, 0x47c8969f2a46908aU}, /* 10^121 */
    {0x4d73abacb4a303afU, 0x4cdd5e237a6c1a57U}, /* 10^122 */
    {0x60d09697e1cbc49bU, 0x4014b5ac590720ecU}, /* 10^123 */
    {0x7904bc3dda3eb5c2U, 0x3019e3176f48e927U}, /* 10^124 */
    {0x4ba2f5a6a8673199U, 0x3e102deea58d91b9U}, /* 10^125 */
    {0x5e8bb3105280fdffU, 0x6d94396a4ef0f627U}, /* 10^126 */
    {0x762e9fd467213d7fU, 0x68f947c4e2ad33b0U}, /* 10^127 */
    {0x49dd23e4c074c66fU, 0x719bccdb0dac404eU}, /* 10^128 */
    {0x5c546cddf091f80bU, 0x6e02c011d1175062U}, /* 10^129 */
    {0x736988156cb6760eU, 0x69837016455d247aU}, /* 10^130 */
    {0x4821f50d63f209c9U, 0x21f2260deb5a36ccU}, /* 10^131 */
    {0x5a2a7250bcee8c3bU, 0x4a6eaf916630c47fU}, /* 10^132 */
    {0x70b50ee4ec2a2f4aU, 0x3d0a5b75bfbcf59fU}, /* 10^133 */
    {0x4671294f139a5d8eU, 0x4626792997d61984U}, /* 10^134 */
    {0x580d73a2d880f4f2U, 0x17b01773fdcb9fe4U}, /* 10^135 */
    {0x6e10d08b8ea1322eU, 0x5d9c1d50fd3e87ddU}, /* 10^136 */
    {0x44ca82573924bf5dU, 0x1a8192529e4714ebU}, /* 10^137 */
    {0x55fd22ed076def34U, 0x4121f6e745d8da25U}, /* 10^138 */
    {0x6b7c6ba849496b01U, 0x516a74a1174f10aeU}, /* 10^139 */
    {0x432dc3492dcde2e1U, 0x02e288e4ae916a6dU}, /* 10^140 */
    {0x53f9341b79415b99U, 0x239b2b1dda35c508U}, /* 10^141 */
    {0x68f781225791b27fU, 0x4c81f5e550c3364aU}, /* 10^142 */
    {0x419ab0b576bb0f8fU, 0x5fd139af527a01efU}, /* 10^143 */
    {0x52015ce2d469d373U, 0x57c5881b2718826aU}, /* 10^144 */
    {0x6681b41b89844850U, 0x4db6ea21f0dea304U}, /* 10^145 */
    {0x4011109135f2ad32U, 0x30925255368b25e3U}, /* 10^146 */
    {0x501554b5836f587eU, 0x7cb6e6ea842def5cU}, /* 10^147 */
    {0x641aa9e2e44b2e9eU, 0x5be4a0a525396b32U}, /* 10^148 */
    {0x7d21545b9d5dfa46U, 0x32ddc8ce6e87c5ffU}, /* 10^149 */
    {0x4e34d4b9425abc6bU, 0x7fca9d810514dbbfU}, /* 10^150 */
    {0x61c209e792f16b86U, 0x7fbd44e1465a12afU}, /* 10^151 */
    {0x7a328c6177adc668U, 0x5fac961997f0975bU}, /* 10^152 */
    {0x4c5f97bceacc9c01U, 0x3bcbddcffef65e99U}, /* 10^153 */
    {0x5f777dac257fc301U, 0x6abed543feb3f63fU}, /* 10^154 */
    {0x77555d172edfb3c2U, 0x256e8a94fe60f3cfU}, /* 10^155 */
    {0x4a955a2e7d4bd059U, 0x3765169d1efc9861U}, /* 10^156 */
    {0x5d3ab0ba1c9ec46fU, 0x653e5c4466bbbe7aU}, /* 10^157 */
    {0x74895ce8a3c6758bU, 0x5e8df355806aae18U}, /* 10^158 */
    {0x48d5da11665c0977U, 0x2b18b8157042accfU}, /* 10^159 */
    {0x5b0b5095bff30bd5U, 0x15dee61acc535803U}, /* 10^160 */
    {0x71ce24bb2fefcecaU, 0x3b569fa17f682e03U}, /* 10^161 */
    {0x4720d6f4fdf5e13eU, 0x451623c4efa11cc2U}, /* 10^162 */
    {0x58e90cb23d73598eU, 0x165bacb62b8963f3U}, /* 10^163 */
    {0x6f234fdeccd02ff1U, 0x5bf297e3b66bbcefU}, /* 10^164 */
    {0x457611eb40021df7U, 0x09779eee52035616U}, /* 10^165 */
    {0x56d396661002a574U, 0x6bd586a9e6842b9bU}, /* 10^166 */
    {0x6c887bff94034ed2U, 0x06cae85460253682U}, /* 10^167 */
    {0x43d54d7fbc821143U, 0x243ed134bc174211U}, /* 10^168 */
    {0x54caa0dfaba29594U, 0x0d4e8581eb1d1295U}, /* 10^169 */
    {0x69fd4917968b3af9U, 0x10a226e265e4573bU}, /* 10^170 */
    {0x423e4daebe1704dbU, 0x5a65584d7faeb685U}, /* 10^171 */
    {0x52cde11a6d9cc612U, 0x50feae60df9a6426U}, /* 10^172 */
    {0x678159610903f797U, 0x253e59f91780fd2fU}, /* 10^173 */
    {0x40b0d7dca5a27abeU, 0x4746f83baeb09e3eU}, /* 10^174 */
    {0x50dd0dd3cf0b196eU, 0x1918b64a9a5cc5cdU}, /* 10^175 */
    {0x65145148c2cddfc9U, 0x5f5ee3dd40f3f740U}, /* 10^176 */
    {0x7e59659af38157bcU, 0x17369cd49130f510U}, /* 10^177 */
    {0x4ef7df80d830d6d5U, 0x4e822204dabe992aU}, /* 10^178 */
    {0x62b5d7610e3d0c8bU, 0x0222aa86116e3f75U}, /* 10^179 */
    {0x7b634d3951cc4fadU, 0x62ab552795c9cf52U}, /* 10^180 */
    {0x4d1e1043d31fb1ccU, 0x4dab1538bd9e2193U}, /* 10^181 */
    {0x60659454c7e79e3fU, 0x6115da86ed05a9f8U}, /* 10^182 */
    {0x787ef969f9e185cfU, 0x595b5128a8471476U}, /* 10^183 */
    {0x4b4f5be23c2cf3a1U, 0x67d912b9692c6ccaU}, /* 10^184 */
    {0x5e2332dacb38308aU, 0x21cf5767c37787fcU}, /* 10^185 */
    {0x75abff917e063cacU, 0x6a432d41b45569fbU}, /* 10^186 */
    {0x498b7fbaeec3e5ecU, 0x0269fc4910b5623dU}, /* 10^187 */
    {0x5bee5fa9aa74df67U, 0x03047b5b54e2baccU}, /* 10^188 */
    {0x72e9f79415121740U, 0x63c59a322a1b697fU}, /* 10^189 */
    {0x47d23abc8d2b4e88U, 0x3e5b805f5a5121f0U}, /* 10^190 */
    {0x59c6c96bb076222aU, 0x4df2607730e56a6cU}, /* 10^191 */
    {0x70387bc69c93aab5U, 0x216ef894fd1ec506U}, /* 10^192 */
    {0x46234d5c21dc4ab1U, 0x24e55b5d1e333b24U}, /* 10^193 */
    {0x57ac20b32a535d5dU, 0x4e1eb23465c009edU}, /* 10^194 */
    {0x6d9728dff4e834b5U, 0x01a65ec17f300c68U}, /* 10^195 */
    {0x447e798bf91120f1U, 0x1107fb38ef7e07c1U}, /* 10^196 */
    {0x559e17eef755692dU, 0x3549fa072b5d89b1U}, /* 10^197 */
    {0x6b059deab52ac378U, 0x629c7888f634ec1eU}, /* 10^198 */
    {0x42e382b2b13aba2bU, 0x3da1cb5599e11393U}, /* 10^199 */
    {0x539c635f5d8968b6U, 0x2d0a3e2b00595877U}, /* 10^200 */
    {0x68837c3734ebc2e3U, 0x784ccdb5c06fae95U}, /* 10^201 */
    {0x41522da2811359ceU, 0x3b3000919845cd1dU}, /* 10^202 */
    {0x51a6b90b21583042U, 0x09fc00b5fe574065U}, /* 10^203 */
    {0x6610674de9ae3c52U, 0x4c7b00e37ded107eU}, /* 10^204 */
    {0x7f9481216419cb67U, 0x1f99c11c5d68549dU}, /* 10^205 */
    {0x4fbcd0b4de901f20U, 0x43c018b1ba6134e2U}, /* 10^206 */
    {0x63ac04e2163426e8U, 0x54b01ede28f9821bU}, /* 10^207 */
    {0x7c97061a9bc130a2U, 0x69dc2695b337e2a1U}, /* 10^208 */
    {0x4dde63d0a158be65U, 0x6229981d9002eda5U}, /* 10^209 */
    {0x6155fcc4c9aeedffU, 0x1ab3fe24f403a90eU}, /* 10^210 */
    {0x79ab7bf5fc1aa97fU, 0x0160fdae31049351U}, /* 10^211 */
    {0x4c0b2d79bd90a9efU, 0x30dc9e8cdea2dc13U}, /* 10^212 */
    {0x5f0df8d82cf4d46bU, 0x1d13c630164b9318U}, /* 10^213 */
    {0x76d1770e38320986U, 0x0458b7bc1bde77ddU}, /* 10^214 */
    {0x4a42ea68e31f45f3U, 0x62b772d5916b0aebU}, /* 10^215 */
    {0x5cd3a5031be71770U, 0x5b654f8af5c5cda5U}, /* 10^216 */
    {0x74088e43e2e0dd4cU, 0x723ea36db337410eU}, /* 10^217 */
    {0x488558ea6dcc8a50U, 0x07672624900288a9U}, /* 10^218 */
    {0x5aa6af25093face4U, 0x0940efadb4032ad3U}, /* 10^219 */
    {0x71505aee4b8f981dU, 0x0b912b992103f588U}, /* 10^220 */
    {0x46d238d4ef39bf12U, 0x173abb3fb4a27975U}, /* 10^221 */
    {0x5886c70a2b082ed6U, 0x5d096a0fa1cb17d2U}, /* 10^222 */
    {0x6ea878ccb5ca3a8cU, 0x344bc4938a3dddc7U}, /* 10^223 */
    {0x45294b7ff19e6497U, 0x60af5adc3666aa9cU}, /* 10^224 */
    {0x56739e5fee05fdbdU, 0x58db319344005543U}, /* 10^225 */
    {0x6c1085f7e9877d2dU, 0x0f11fdf815006a94U}, /* 10^226 */
    {0x438a53baf1f4ae3cU, 0x196b3ebb0d20429dU}, /* 10^227 */
    {0x546ce8a9ae71d9cbU, 0x1fc60e69d0685344U}, /* 10^228 */
    {0x698822d41a0e503eU, 0x07b7920444826815U}, /* 10^229 */
    {0x41f515c49048f226U, 0x64d2bb42aad1810dU}, /* 10^230 */
    {0x52725b35b45b2eb0U, 0x3e076a135585e150U}, /* 10^231 */
    {0x670ef2032171fa5cU, 0x4d8944982ae759a4U}, /* 10^232 */
    {0x40695741f4e73c79U, 0x7075cadf1ad09807U}, /* 10^233 */
    {0x5083ad1272210b98U, 0x2c933d96e184be08U}, /* 10^234 */
    {0x64a498570ea94e7eU, 0x37b80cfc99e5ed8aU}, /* 10^235 */
    {0x7dcdbe6cd253a21eU, 0x05a6103bc05f68edU}, /* 10^236 */
    {0x4ea0970403744552U, 0x6387ca25583ba194U}, /* 10^237 */
    {0x6248bcc5045156a7U, 0x3c69bcaeae4a89f9U}, /* 10^238 */
    {0x7adaebf64565ac51U, 0x2b842bda59dd2c77U}, /* 10^239 */
    {0x4cc8d379eb5f8bb2U, 0x6b329b68782a3bcbU}, /* 10^240 */
    {0x5ffb085866376e9fU, 0x45ff42429634cabdU}, /* 10^241 */
    {0x77f9ca6e7fc54a47U, 0x377f12d33bc1fd6dU}, /* 10^242 */
    {0x4afc1e850fdb4e6cU, 0x52af6bc405593e64U}, /* 10^243 */
    {0x5dbb262653d22207U, 0x675b46b506af8dfdU}, /* 10^244 */
    {0x7529efafe8c6aa89U, 0x61321862485b717cU}, /* 10^245 */
    {0x493a35cdf17c2a96U, 0x0cbf4f3d6d3926eeU}, /* 10^246 */
    {0x5b88c3416ddb353bU, 0x4fef230cc88770a9U}, /* 10^247 */
    {0x726af411c952028aU, 0x43eaebcffaa94cd3U}, /* 10^248 */
    {0x4782d88b1dd34196U, 0x4a72d361fca9d004U}, /* 10^249 */
    {0x59638eade54811fcU, 0x1d0f883a7bd44405U}, /* 10^250 */
    {0x6fbc72595e9a167bU, 0x24536a491ac95506U}, /* 10^251 */
    {0x45d5c777db204e0dU, 0x06b4226db0bdd524U}, /* 10^252 */
    {0x574b3955d1e86190U, 0x28612b091ced4a6dU}, /* 10^253 */
    {0x6d1e07ab466279f4U, 0x327975cb64289d08U}, /* 10^254 */
    {0x4432c4cb0bfd8c38U, 0x5f8be99f1e996225U}, /* 10^255 */
    {0x553f75fdcefcef46U, 0x776ee406e63fbaaeU}, /* 10^256 */
    {0x6a8f537d42bc2b18U, 0x554a9d089fcfa95aU}, /* 10^257 */
    {0x4299942e49b59aefU, 0x354ea22563e1c9d8U}, /* 10^258 */
    {0x533ff939dc2301abU, 0x22a24aaebcda3c4eU}, /* 10^259 */
    {0x680ff788532bc216U, 0x0b4add5a6c10cb62U}, /* 10^260 */
    {0x4109fab533fb594dU, 0x670eca58838a7f1dU}, /* 10^261 */
    {0x514c796280fa2fa1U, 0x20d27ceea46d1ee4U}, /* 10^262 */
    {0x659f97bb2138bb89U, 0x49071c2a4d88669dU}, /* 10^263 */
    {0x7f077da9e986ea6bU, 0x7b48e334e0ea8045U}, /* 10^264 */
    {0x4f64ae8a31f45283U, 0x3d0d8e010c92902bU}, /* 10^265 */
    {0x633dda2cbe716724U, 0x2c50f1814fb73436U}, /* 10^266 */
    {0x7c0d50b7ee0dc0edU, 0x37652de1a3a50143U}, /* 10^267 */
    {0x4d885272f4c89894U, 0x329f3cad064720caU}, /* 10^268 */
    {0x60ea670fb1fabeb9U, 0x3f470bd847d8e8fdU}, /* 10^269 */
    {0x792500d39e796e67U, 0x6f18cece59cf233cU}, /* 10^270 */
    {0x4bb72084430be500U, 0x756f8140f8217605U}, /* 10^271 */
    {0x5ea4e8a553cede41U, 0x12cb61913629d387U}, /* 10^272 */
    {0x764e22cea8c295d1U, 0x377e39f583b44868U}, /* 10^273 */
    {0x49f0d5c129799da2U, 0x72aee4397250ad41U}, /* 10^274 */
    {0x5c6d0b3173d8050bU, 0x4f5a9d47cee4d891U}, /* 10^275 */
    {0x73884dfdd0ce064eU, 0x43314499c29e0eb6U}, /* 10^276 */
    {0x483530bea280c3f1U, 0x09fecae019a2c932U}, /* 10^277 */
    {0x5a427cee4b20f4edU, 0x2c7e7d98200b7b7eU}, /* 10^278 */
    {0x70d31c29dde93228U, 0x579e1cfe280e5a5dU}, /* 10^279 */
    {0x4683f19a2ab1bf59U, 0x36c2d21ed908f87bU}, /* 10^280 */
    {0x5824ee00b55e2f2fU, 0x647386a68f4b3699U}, /* 10^281 */
    {0x6e2e2980e2b5bafbU, 0x5d906850331e043fU}, /* 10^282 */
    {0x44dcd9f08db194ddU, 0x2a7a41321ff2c2a8U}, /* 10^283 */
    {0x5614106cb11dfa14U, 0x5518d17ea7ef7352U}, /* 10^284 */
    {0x6b991487dd657899U, 0x6a5f05de51eb5026U}, /* 10^285 */
    {0x433facd4ea5f6b60U, 0x127b63aaf3331218U}, /* 10^286 */
    {0x540f980a24f74638U, 0x171a3c95afffd69eU}, /* 10^287 */
    {0x69137e0cae3517c6U, 0x1ce0cbbb1bffcc45U}, /* 10^288 */
    {0x41ac2ec7ece12edbU, 0x720c7f54f17fdfabU}, /* 10^289 */
    {0x52173a79e8197a92U, 0x6e8f9f2a2ddfd796U}, /* 10^290 */
    {0x669d0918621fd937U, 0x4a3386f4b957cd7bU}, /* 10^291 */
    {0x402225af3d53e7c2U, 0x5e603458f3d6e06dU}, /* 10^292 */
    {0x502aaf1b0ca8e1b3U, 0x35f8416f30cc9888U}, /* 10^293 */
    {0x64355ae1cfd31a20U, 0x237651cafcffbeaaU}, /* 10^294 */
    {0x7d42b19a43c7e0a8U, 0x2c53e63dbc3fae55U}, /* 10^295 */
    {0x4e49af006a5cec69U, 0x1bb46fe695a7ccf5U}, /* 10^296 */
    {0x61dc1ac084f42783U, 0x42a18be03b11c033U}, /* 10^297 */
    {0x7a532170a6313164U, 0x3349eed849d6303fU}, /* 10^298 */
    {0x4c73f4e667debedeU, 0x600e35472e25de28U}, /* 10^299 */
    {0x5f90f22001d66e96U, 0x3811c298f9af55b1U}, /* 10^300 */
    {0x77752ea8024c0a3cU, 0x0616333f381b2b1eU}, /* 10^301 */
    {0x4aa93d29016f8665U, 0x43cde0078310faf3U}, /* 10^302 */
    {0x5d538c7341cb67feU, 0x74c1580963d539afU}, /* 10^303 */
    {0x74a86f90123e41feU, 0x51f1ae0bbcca881bU}, /* 10^304 */
    {0x48e945ba0b66e93fU, 0x13370cc755fe9511U}, /* 10^305 */
    {0x5b2397288e40a38eU, 0x7804cff92b7e3a55U}, /* 10^306 */
    {0x71ec7cf2b1d0cc72U, 0x560603f7765dc8eaU}, /* 10^307 */
    {0x4733ce17af227fc7U, 0x55c3c27aa9fa9d93U}, /* 10^308 */
    {0x5900c19d9aeb1fb9U, 0x4b34b319547944f7U}, /* 10^309 */
    {0x6f40f20501a5e7a7U, 0x7e01dfdfa9979635U}, /* 10^310 */
    {0x458897432107b0c8U, 0x7ec12bebc9febde1U}, /* 10^311 */
    {0x56eabd13e9499cfbU, 0x1e7176e6bc7e6d59U}, /* 10^312 */
    {0x6ca56c58e39c043aU, 0x060dd4a06b9e08b0U}, /* 10^313 */
    {0x43e763b78e4182a4U, 0x23c8a4e44342c56eU}, /* 10^314 */
    {0x54e13ca571d1e34dU, 0x2cbace1d541376c9U}, /* 10^315 */
    {0x6a198bcece465c20U, 0x57e981a4a918547bU}, /* 10^316 */
    {0x424ff76140ebf994U, 0x36f1f106e9af34cdU}, /* 10^317 */
    {0x52e3f5399126f7f9U, 0x44ae6d48a41b0201U}, /* 10^318 */
    {0x679cf287f570b5f7U, 0x75da089acd21c281U}, /* 10^319 */
    {0x40c21794f96671baU, 0x79a84560c0351991U}, /* 10^320 */
    {0x50f29d7a37c00e29U, 0x581256b8f0425ff5U}, /* 10^321 */
    {0x652f44d8c5b011b4U, 0x0e16ec672c52f7f2U}, /* 10^322 */
    {0x7e7b160ef71c1621U, 0x119ca780f767b5eeU}, /* 10^323 */
    {0x4f0cedc95a718dd4U, 0x5b01e8b09aa0d1b5U}, /* 10^324 */
};

/*
 * floor(x / 2^n) for negative x too: >> of a negative signed value is implementation-defined
 * in C, so go through the complement (compilers turn this back into one arithmetic shift).
 */
static inline int
floor_shr(int64_t x, int n)
{
    return (int)(x >= 0 ? x >> n : ~(~x >> n));
}

/* floor(e log10(2)); the constant is exact for |e| <= 5456721, far beyond the doubles'. */
static inline int
flog10_pow2(int e)
{
    return floor_shr((int64_t)e * 661971961083, 41);
}

/* floor(log10(3/4 2^e)), for the narrower interval below a power of two. */
static inline int
flog10_three_quarters_pow2(int e)
{
    return floor_shr((int64_t)e * 661971961083 - 274743187321, 41);
}

/* floor(e log2(10)), exact for |e| <= 1650. */
static inline int
flog2_pow10(int e)
{
    return floor_shr((int64_t)e * 913124641741, 38);
}

/* High 64 bits of a * b; the low half goes to *lo when lo is not NULL. */
static inline uint64_t
mul_64x64(uint64_t a, uint64_t b, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)
    __extension__ unsigned __int128 p = (unsigned __int128)a * b;

    if (lo)
        *lo = (uint64_t)p;
    return (uint64_t)(p >> 64);
#else
    /* Portable schoolbook product on 32-bit halves, for compilers without __int128. */
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;

    if (lo)
        *lo = (mid << 32) | (uint32_t)p00;
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

/*
 * floor(g cp / 2^127) with its lowest bit set when the division is inexact ("round to odd"),
 * g = g1 2^63 + g0. The sticky bit keeps the comparisons against interval ends exact even
 * though only floor() survives; see section 9 of the paper.
 */
static inline uint64_t
round_to_odd(uint64_t g1, uint64_t g0, uint64_t cp)
{
    uint64_t x1 = mul_64x64(g0, cp, NULL);
    uint64_t y0;
    uint64_t y1 = mul_64x64(g1, cp, &y0);
    uint64_t z = (y0 >> 1) + x1; /* no overflow: both terms are below 2^63 */
    uint64_t vbp = y1 + (z >> 63);

    return vbp | (((z & MASK63) + MASK63) >> 63);
}

/*
 * The shortest decimal f 10^e that rounds to c 2^q (c > 0); among several shortest the one
 * closest to c 2^q, the even one on a tie. Returns f and stores e; f < 10^17.
 */
static uint64_t
shortest(uint64_t c, int q, int *e)
{
    /* Round-half-even reading: the interval ends belong to v only when c is even. */
    uint64_t out = c & 1;
    /* v and its interval ends, all times 4 so that the ends v -/+ 2^q / 2 are integers. */
    uint64_t cb = c << 2;
    uint64_t cbr = cb + 2;
    uint64_t cbl;
    int k;

    if (c != C_MIN || q == Q_MIN) {
        cbl = cb - 2;
        k = flog10_pow2(q);
    } else {
        /* Just above a power of two the gap below is half the gap above. */
        cbl = cb - 1;
        k = flog10_three_quarters_pow2(q);
    }
    /*
     * 10^k <= interval width < 10^(k+1): at most one multiple of 10^(k+1) is in the interval
     * and at least one multiple of 10^k is, so those are the only candidates.
     */
    int h = q + flog2_pow10(-k) + 2; /* 2..5: cb << h stays below 2^60 */
    const uint64_t *g = g_table[-k - G_E_MIN];
    uint64_t vb = round_to_odd(g[0], g[1], cb << h);
    uint64_t vbl = round_to_odd(g[0], g[1], cbl << h);
    uint64_t vbr = round_to_odd(g[0], g[1], cbr << h);
    uint64_t s = vb >> 2;

    /* One digit fewer: the multiples of 10^(k+1) around v. */
    uint64_t sp10 = s / 10 * 10;
    uint64_t tp10 = sp10 + 10;
    int upin = vbl + out <= sp10 << 2;
    int wpin = (tp10 << 2) + out <= vbr;

    uint64_t t = s + 1;
    int uin = vbl + out <= s << 2;
    int win = (t << 2) + out <= vbr;
    /* When both read back as v: the closer one, the even one when v is right in between. */
    uint64_t mid = (s + t) << 1;
    int pick_s = uin != win ? uin : vb < mid || (vb == mid && (s & 1) == 0);

    /* Selects rather than early returns: which case applies is data-dependent, unpredictable. */
    *e = k;
    return upin != wpin ? (upin ? sp10 : tp10) : pick_s ? s : t;
}

/* Number of decimal digits of v (1 for 0). */
static inline int
count_digits(uint64_t v)
{
    static const uint64_t pow10[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
        100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
        10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
    };
#if defined(__GNUC__) || defined(__clang__)
    /* bits * log10(2) is the count or one too many; one compare settles it (v | 1: 0 -> 1). */
    uint64_t w = v | 1;
    int n = ((64 - __builtin_clzll(w)) * 1233) >> 12;

    return n + 1 - (w < pow10[n]);
#else
    int n = 1;

    while (n < 20 && v >= pow10[n])
        n++;
    return n;
#endif
}

/* Exactly 8 digits of x < 10^8 at p: two independent 4-digit halves, 32-bit arithmetic. */
static inline void
write8(char *p, uint32_t x)
{
    uint32_t hi = x / 10000, lo = x % 10000;

    memcpy(p, digits2 + hi / 100 * 2, 2);
    memcpy(p + 2, digits2 + hi % 100 * 2, 2);
    memcpy(p + 4, digits2 + lo / 100 * 2, 2);
    memcpy(p + 6, digits2 + lo % 100 * 2, 2);
}

/* The n = count_digits(v) digits of v at p (no NUL). */
static inline void
write_digits(char *p, uint64_t v, int n)
{
    char *end = p + n;

    while (v >= 100000000) {
        end -= 8;
        write8(end, (uint32_t)(v % 100000000));
        v /= 100000000;
    }
    uint32_t x = (uint32_t)v;

    while (x >= 100) {
        end -= 2;
        memcpy(end, digits2 + x % 100 * 2, 2);
        x /= 100;
    }
    if (x >= 10)
        memcpy(end - 2, digits2 + x * 2, 2);
    else
        end[-1] = (char)('0' + x);
}

/*
 * Eight decimal digits of x < 10^8 as byte values 0..9 in one word, the most significant digit
 * in the lowest byte (the first byte in memory once stored little-endian). SWAR: each step
 * splits all lanes at once with a multiply-shift reciprocal (exact for these lane ranges:
 * x * 10486 >> 20 == x / 100 for x < 10^4, x * 103 >> 10 == x / 10 for x < 100).
 */
static inline uint64_t
digits8(uint32_t x)
{
    uint64_t v = (uint64_t)(x / 10000) | ((uint64_t)(x % 10000) << 32);
    uint64_t q = ((v * 10486) >> 20) & 0x0000007f0000007fULL;

    v = q | ((v - q * 100) << 16);
    q = ((v * 103) >> 10) & 0x000f000f000f000fULL;
    return q | ((v - q * 10) << 8);
}

/* Stores the 8 bytes of w lowest byte first, whatever the host byte order. */
static inline void
store_le64(char *p, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &w, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (char)(w >> (8 * i));
#endif
}

/* Number of trailing zero bytes (high-order bytes) of the nonzero word w: trailing '0' digits. */
static inline int
zero_tail_bytes(uint64_t w)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_clzll(w) >> 3;
#else
    int n = 0;

    while ((w >> 56) == 0) {
        w <<= 8;
        n++;
    }
    return n;
#endif
}

/*
 * f 10^e (f > 0) in repr() layout at p, NUL-terminated; returns the length (at most 23).
 * Bytes after the NUL up to p[24] may be overwritten. As CPython's format_float_short() for 'r':
 * with dp = digits before the point, exponent form when dp > 16 or dp < -3 ("d.ddde-XX", at
 * least two exponent digits), positional otherwise, with ".0" for integral values.
 *
 * f is brought to exactly 17 digits (one head digit and two 8-digit words, converted without
 * loops), so every shape is a few unconditional word stores at computed offsets; the trailing
 * zeros are stripped just by where the NUL goes.
 */
static size_t
write_decimal(char *p, uint64_t f, int e)
{
    /* Normal doubles give 16 or 17 digits; subnormals may need a few more steps. */
    while (f < 10000000000000000ULL) {
        f *= 10;
        e--;
    }

    uint32_t hi = (uint32_t)(f / 100000000); /* 10^8 <= hi < 10^9 */
    uint32_t head = hi / 100000000;
    uint64_t wm = digits8(hi % 100000000);
    uint64_t wl = digits8((uint32_t)(f % 100000000));
    /* Significant digits: 17 minus the trailing zeros (the head digit is never 0). */
    int n = 17 - (wl != 0 ? zero_tail_bytes(wl) : wm != 0 ? 8 + zero_tail_bytes(wm) : 16);
    int dp = 17 + e;
    char *q;

    wm += 0x3030303030303030ULL; /* '0' in every byte: the digits as text */
    wl += 0x3030303030303030ULL;
    if (dp > 16 || dp < -3) {
        int x = dp - 1;

        p[0] = (char)('0' + head);
        p[1] = '.';
        store_le64(p + 2, wm);
        store_le64(p + 10, wl);
        q = p + (n > 1 ? n + 1 : 1);
        q[0] = 'e';
        q[1] = x < 0 ? '-' : '+';
        x = x < 0 ? -x : x;
        if (x >= 100) {
            q[2] = (char)('0' + x / 100);
            q++;
            x %= 100;
        }
        memcpy(q + 2, digits2 + x * 2, 2);
        q += 4;
    } else if (dp <= 0) {
        /* 0.000ddd: at most three zeros after the point. */
        memcpy(p, "0.000", 5);
        q = p + 2 - dp;
        q[0] = (char)('0' + head);
        store_le64(q + 1, wm);
        store_le64(q + 9, wl);
        q += n;
    } else {
        /* All 17 digits, then the point over digit dp and the rest again one place right. */
        p[0] = (char)('0' + head);
        store_le64(p + 1, wm);
        store_le64(p + 9, wl);
        if (dp < n) {
            p[dp] = '.';
            if (dp <= 8) {
                store_le64(p + dp + 1, wm >> (8 * (dp - 1)));
                store_le64(p + 10, wl);
            } else {
                store_le64(p + dp + 1, wl >> (8 * (dp - 9)));
            }
            q = p + n + 1;
        } else {
            /* Integral: the digits from n to dp are the zeros already written. */
            memcpy(p + dp, ".0", 2);
            q = p + dp + 2;
        }
    }
    *q = '\0';
    return (size_t)(q - p);
}

size_t
fmt_double(char *buf, double v)
{
    uint64_t bits;
    char *p = buf;

    memcpy(&bits, &v, sizeof(bits));

    uint64_t t = bits & (C_MIN - 1);
    int be = (int)(bits >> MANT_BITS) & EXP_MASK;

    if (be == EXP_MASK) {
        /* Python prints every NaN, whatever its sign bit, as "nan". */
        if (t != 0) {
            memcpy(buf, "nan", 4);
            return 3;
        }
        if (bits >> 63)
            *p++ = '-';
        memcpy(p, "inf", 4);
        return (size_t)(p - buf) + 3;
    }
    if (bits >> 63)
        *p++ = '-';
    if (be == 0 && t == 0) {
        memcpy(p, "0.0", 4);
        return (size_t)(p - buf) + 3;
    }

    /* Subnormals have no implicit bit and the same exponent as the smallest normals. */
    uint64_t c = be != 0 ? t | C_MIN : t;
    int q = be != 0 ? be - EXP_BIAS : Q_MIN;

    /*
     * Integral values below 2^53 (counters, sizes: most of a CSV) print as the integer and
     * ".0": any shorter decimal would be a multiple of 10 within 1/2 ulp <= 1/2 of v.
     */
    if (q <= 0 && q > -MANT_BITS - 1) {
        uint64_t ival = c >> -q;

        if (ival << -q == c) {
            int n = count_digits(ival);

            write_digits(p, ival, n);
            memcpy(p + n, ".0", 3);
            return (size_t)(p - buf) + (size_t)n + 2;
        }
    }
    int e;
    uint64_t f = shortest(c, q, &e);

    return (size_t)(p - buf) + write_decimal(p, f, e);
}

size_t
fmt_u64(char *buf, uint64_t v)
{
    int n = count_digits(v);

    write_digits(buf, v, n);
    buf[n] = '\0';
    return (size_t)n;
}

size_t
fmt_i64(char *buf, int64_t v)
{
    if (v >= 0)
        return fmt_u64(buf, (uint64_t)v);
    buf[0] = '-';
    /* Negate in unsigned arithmetic: -INT64_MIN does not fit an int64_t. */
    return 1 + fmt_u64(buf + 1, 0 - (uint64_t)v);
}
